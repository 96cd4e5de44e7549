import unittest

from calculator import add, average, divide, multiply, subtract


class CalculatorTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_subtract(self):
        self.assertEqual(subtract(2, 3), -1)

    def test_multiply(self):
        self.assertEqual(multiply(4, 2.5), 10)

    def test_divide_keeps_the_fraction(self):
        self.assertEqual(divide(7, 2), 3.5)

    def test_divide_by_zero_raises(self):
        with self.assertRaises(ZeroDivisionError):
            divide(1, 0)

    def test_average(self):
        self.assertEqual(average([1, 2, 3, 4]), 2.5)


if __name__ == "__main__":
    unittest.main()
