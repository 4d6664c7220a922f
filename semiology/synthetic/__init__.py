"""semiology.synthetic"""
