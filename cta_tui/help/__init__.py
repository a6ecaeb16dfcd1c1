"""The help screen: the keys active where it was opened."""
