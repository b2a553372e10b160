print("wal-crash-writer: not built yet")
