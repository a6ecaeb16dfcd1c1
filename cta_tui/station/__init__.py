"""The station board: next arrivals per direction, approaching trains and predictions."""
