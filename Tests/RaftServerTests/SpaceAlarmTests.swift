import RaftAPI
import RaftCore
import RaftWire
import Testing

@testable import RaftServer

@Suite("Space alarm and cluster alarms (unit)")
struct SpaceAlarmTests {
    let mebibyte: UInt64 = 1 << 20

    func reading(free: UInt64, total: UInt64 = 1 << 30, used: UInt64 = 0) -> DiskReading {
        DiskReading(freeBytes: free, totalBytes: total, usedBytes: used)
    }

    @Test("the larger of the byte and percentage thresholds applies; 0 turns each off")
    func thresholds() {
        let alarm = SpaceAlarm(minimumFreeBytes: 256 * mebibyte, minimumFreePercent: 5, quotaBytes: nil)
        #expect(alarm.threshold(totalBytes: 1 << 30) == 256 * mebibyte)
        #expect(alarm.threshold(totalBytes: 100 << 30) == (100 << 30) / 100 * 5)
        var off = SpaceAlarm(minimumFreeBytes: 0, minimumFreePercent: 0, quotaBytes: nil)
        #expect(off.threshold(totalBytes: 1 << 30) == 0)
        let changed1 = off.update(reading(free: 0))
        #expect(!changed1)
        #expect(!off.raised)
    }

    @Test("raised under the threshold, cleared only a tenth above it (no flapping at the line)")
    func hysteresis() {
        var alarm = SpaceAlarm(minimumFreeBytes: 100 * mebibyte, minimumFreePercent: 0, quotaBytes: nil)
        let changed2 = alarm.update(reading(free: 101 * mebibyte))
        #expect(!changed2)
        let changed3 = alarm.update(reading(free: 99 * mebibyte))
        #expect(changed3)
        #expect(alarm.raised)
        #expect(alarm.reason.contains("99 MiB free"), "\(alarm.reason)")
        #expect(alarm.reason.contains("100 MiB"), "\(alarm.reason)")
        let changed4 = alarm.update(reading(free: 105 * mebibyte))
        #expect(!changed4, "back over the line but not by a tenth")
        #expect(alarm.raised)
        let changed5 = alarm.update(reading(free: 110 * mebibyte))
        #expect(changed5)
        #expect(!alarm.raised)
        #expect(alarm.reason.isEmpty)
    }

    @Test("the quota raises the alarm when the WAL and snapshots exceed it; it clears at nine tenths")
    func quota() {
        var alarm = SpaceAlarm(minimumFreeBytes: 0, minimumFreePercent: 0, quotaBytes: 100 * mebibyte)
        let changed6 = alarm.update(reading(free: 500 * mebibyte, used: 100 * mebibyte))
        #expect(!changed6)
        let changed7 = alarm.update(reading(free: 500 * mebibyte, used: 101 * mebibyte))
        #expect(changed7)
        #expect(alarm.reason.contains("over the quota of 100 MiB"), "\(alarm.reason)")
        let changed8 = alarm.update(reading(free: 500 * mebibyte, used: 95 * mebibyte))
        #expect(!changed8)
        let changed9 = alarm.update(reading(free: 500 * mebibyte, used: 90 * mebibyte))
        #expect(changed9)
        #expect(!alarm.raised)
    }

    func health(_ from: NodeID, _ state: NodeHealth.State) -> NodeHealth {
        NodeHealth(from: from, to: 1, state: state, freeBytes: 7, alarmBelowFreeBytes: 8, message: "why")
    }

    @Test("reports lapse unless renewed: no_space after 3 s, storage_failed after 30 s; an ok report clears")
    func reportLifetimes() {
        var alarms = ClusterAlarms()
        let changed10 = alarms.record(health(2, .noSpace), nowMilliseconds: 1_000, timestamp: "t1")
        #expect(changed10)
        let changed11 = alarms.record(health(3, .storageFailed), nowMilliseconds: 1_000, timestamp: "t1")
        #expect(changed11)
        let changed12 = alarms.record(health(2, .noSpace), nowMilliseconds: 2_000, timestamp: "t2")
        #expect(!changed12, "a renewal")
        #expect(alarms.inForce(.noSpace, nowMilliseconds: 5_000).map(\.health.from) == [2])
        #expect(alarms.inForce(.noSpace, nowMilliseconds: 5_000).first?.since == "t1", "since the first report")
        #expect(alarms.inForce(.noSpace, nowMilliseconds: 5_001).isEmpty)
        #expect(alarms.inForce(.storageFailed, nowMilliseconds: 31_000).map(\.health.from) == [3])
        #expect(alarms.inForce(.storageFailed, nowMilliseconds: 31_001).isEmpty)

        let changed13 = alarms.record(health(3, .ok), nowMilliseconds: 1_500, timestamp: "t3")
        #expect(changed13)
        #expect(alarms.inForce(.storageFailed, nowMilliseconds: 1_500).isEmpty)
        let shown = alarms.statusAlarms(nowMilliseconds: 2_500)
        #expect(
            shown == [
                RaftAPI.NodeStatus.Alarm(node: "n2", kind: "no_space", message: "why", freeBytes: 7, since: "t1")
            ])
    }
}
