"""semiology.explain"""
