/// Priority inheritance (i915_scheduler.c __i915_schedule): a request
/// gives its priority to every unfinished request it waits for, so that a
/// high-priority request is not held up behind a low-priority chain that
/// lesser work keeps off the engine (IGT gem_exec_schedule@promotion).
extension DrmDevice {
    /// i915_schedule: raises `rq` and, depth first, what it depends on to
    /// `priority`; a raised request that is ready on another engine may
    /// preempt what runs there (kick_submission). Under the device lock.
    func schedule(_ s: borrowing DeviceState, _ rq: Request, priority: Int64) {
        guard priority > rq.priority, !rq.isDone else { return }
        // A flat list instead of recursion (the kernel's dfs list): each
        // request once, its signalers after it.
        var dfs = [rq]
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(rq)]
        var i = 0
        while i < dfs.count {
            let node = dfs[i]
            i += 1
            // Once running it waits for nothing (node_started).
            if node.isStarted { continue }
            for p in signalers(of: node) where !p.isDone && priority > p.priority {
                if seen.insert(ObjectIdentifier(p)).inserted { dfs.append(p) }
            }
        }
        // Deepest first: a dependency is raised before its waiters.
        for node in dfs.reversed() where priority > node.priority && !node.isDone {
            node.raisePriority(to: priority)
            guard node !== rq, !node.isStarted,
                  QueuedRequest.isReady(node, deps: node.dependencies, awaited: node.awaits) else { continue }
            let engine = engines[node.engine.index]
            let running = engine.runningPriority.load(ordering: .relaxed)
            if running != Int64.min, priority > running { engine.requestPreemption() }
            engine.kick()
        }
    }

    /// The requests a node waits for (its i915_sched_node.signalers_list):
    /// the previous request on its context's timeline
    /// (__i915_request_add_to_timeline), implicit dependencies and awaited
    /// fences (i915_request_await_request), FENCE_SUBMIT's
    /// (__i915_request_await_execution, a weak dependency that PI follows
    /// too). A sw_sync point is no request of ours to raise.
    private func signalers(of node: Request) -> [Request] {
        var out = node.dependencies + node.submitDependencies
        out += node.awaits.requests.filter { $0.softwareTimeline == nil }
        let timeline = node.context.requests
        if let at = timeline.lastIndex(where: { $0 === node }),
           let prev = timeline[..<at].last(where: { $0.timeline == node.timeline }) {
            out.append(prev)
        }
        return out
    }
}
