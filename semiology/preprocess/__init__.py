"""semiology.preprocess"""
