print("raft-core-bench: not built yet")
