"""semiology.detect"""
