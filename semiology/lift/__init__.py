"""semiology.lift"""
