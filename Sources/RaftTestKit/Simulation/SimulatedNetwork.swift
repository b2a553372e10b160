import RaftCore

/// The simulator's network: messages in flight, each due at a tick, delivered in `(dueTick, sendOrder)`
/// order. Delays that differ per message reorder traffic; equal due ticks keep send order, so the order of
/// delivery is a pure function of what was sent and the delays drawn.
///
/// Link state (partitions, one-way cuts) is consulted at delivery, so a fault also strikes messages already
/// in flight, as a real cut would.
struct SimulatedNetwork {
    struct InFlight {
        var dueTick: Int
        var sendOrder: UInt64
        var message: Message

        func isBefore(_ other: InFlight) -> Bool {
            dueTick != other.dueTick ? dueTick < other.dueTick : sendOrder < other.sendOrder
        }
    }

    /// A binary min-heap on `(dueTick, sendOrder)`.
    private var heap: [InFlight] = []
    private var sentCount: UInt64 = 0

    var inFlightCount: Int { heap.count }

    mutating func send(_ message: Message, dueTick: Int) {
        sentCount += 1
        heap.append(InFlight(dueTick: dueTick, sendOrder: sentCount, message: message))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].isBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest message due at or before `tick`, if any.
    mutating func popDue(atOrBefore tick: Int) -> Message? {
        guard let first = heap.first, first.dueTick <= tick else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].isBefore(heap[smallest]) { smallest = left }
                if right < heap.count && heap[right].isBefore(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.message
    }
}

/// A 64-bit FNV-1a hash over the run's observable behaviour: two runs of one seed must agree on it.
struct Fingerprint {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func mix(_ word: UInt64) {
        var w = word
        for _ in 0..<8 {
            value ^= w & 0xFF
            value = value &* 0x0000_0100_0000_01B3
            w >>= 8
        }
    }

    mutating func mix(_ word: Int) { mix(UInt64(bitPattern: Int64(word))) }
}

extension Message.Body {
    /// A small number naming the kind of message, for fingerprints and statistics.
    var kindTag: UInt64 {
        switch self {
        case .requestVote(let v): v.preVote ? 1 : 2
        case .requestVoteResponse(let r): (r.preVote ? 3 : 4) + (r.granted ? 100 : 0)
        case .appendEntries(let a): 5 + 1_000 * UInt64(a.entries.count)
        case .appendEntriesResponse(let r): r.success ? 6 : 7
        case .heartbeat: 8
        case .heartbeatResponse: 9
        case .installSnapshot: 10
        case .timeoutNow: 11
        case .propose: 12
        case .readIndex: 13
        case .readIndexResponse: 14
        case .transferLeader: 15
        }
    }
}
