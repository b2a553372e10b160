import RaftCore
import Testing

@testable import RaftKV

/// The queue of idempotency keys, oldest first, that the store expires records from.
@Suite("byte string queue")
struct ByteStringQueueTests {
    @Test(
        "appends and removals in any mix come out in order, across chunks, with empty and chunk-sized strings; copies keep theirs"
    )
    func firstInFirstOut() {
        var random = SplitMix64(seed: 5)
        var queue = ByteStringQueue()
        var model: [[UInt8]] = []
        var copies: [(ByteStringQueue, [[UInt8]])] = []
        for step in 0..<20_000 {
            if random.next() % 3 == 0, !model.isEmpty {
                #expect(queue.first == model.first)
                queue.removeFirst()
                model.removeFirst()
            } else {
                let length: Int =
                    switch random.next() % 100 {
                    case 0: 0
                    case 1: (1 << 16) + 3
                    default: Int(random.next() % 300)
                    }
                let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: step), count: length)
                queue.append(bytes)
                model.append(bytes)
            }
            #expect(queue.count == model.count)
            if step % 4_000 == 0 { copies.append((queue, model)) }
        }
        #expect(Array(queue) == model)
        for (copy, held) in copies { #expect(Array(copy) == held) }
        while !model.isEmpty {
            #expect(queue.first == model.removeFirst())
            queue.removeFirst()
        }
        #expect(queue.first == nil && queue.count == 0 && Array(queue).isEmpty)
    }
}
