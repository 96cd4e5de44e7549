"""A small calculator: the four basic operations and an average."""


def add(a, b):
    return a + b


def subtract(a, b):
    return a - b


def multiply(a, b):
    return a * b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a // b


def average(values):
    if not values:
        raise ValueError("average of an empty list")
    return sum(values) / len(values)
