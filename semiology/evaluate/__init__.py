"""semiology.evaluate"""
