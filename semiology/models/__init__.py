"""semiology.models"""
