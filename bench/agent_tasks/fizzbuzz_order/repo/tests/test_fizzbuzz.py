from fizzbuzz import fizzbuzz


def test_plain() -> None:
    assert [fizzbuzz(1), fizzbuzz(3), fizzbuzz(5)] == ["1", "Fizz", "Buzz"]


def test_both() -> None:
    assert fizzbuzz(15) == "FizzBuzz"
    assert fizzbuzz(30) == "FizzBuzz"
