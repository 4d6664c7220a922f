"""semiology.layouts"""
