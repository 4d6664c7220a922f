"""semiology.io"""
