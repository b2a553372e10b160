import Foundation

/// Runs CPU-bound test work on a thread of its own and awaits its result.
///
/// Swift's cooperative thread pool has one thread per core: two long synchronous tests (a simulation of
/// thousands of seeds, say) would occupy both threads of a 2-core machine and starve every async test that
/// waits for a real process, so that its deadlines fire late. Work run here leaves the pool free.
///
/// `body` must not record test issues itself (Swift Testing finds the current test through a task-local that
/// this thread does not have): return what to check and check it in the awaiting test.
public func runOnDedicatedThread<T: Sendable>(
    _ name: String = "test-work", _ body: @escaping @Sendable () -> T
) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = name
        // The simulator recurses through the core; give it the main thread's stack size.
        thread.stackSize = 8 << 20
        thread.start()
    }
}
