"""semiology.train"""
