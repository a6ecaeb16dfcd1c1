"""The tail screen: any topic's records, decoded, newest last."""
