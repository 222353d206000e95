"""The offline coach's parts: words, passages, the message's kind, worked numbers, the reply."""
