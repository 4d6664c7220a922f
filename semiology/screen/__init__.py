"""semiology.screen"""
