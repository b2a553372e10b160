print("raft-storage-bench: not built yet")
