import RaftCtlKit
import Testing

/// The exposition-format rules raftd's `/metrics` is held to (the parser `raftctl top` reads it with).
@Suite struct PrometheusTextTests {
    let valid = """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{method="post",code="400"}    3 1395066363000

        # A comment that is neither HELP nor TYPE.
        msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
        # TYPE up gauge
        up +Inf
        # HELP rpc_duration_seconds A histogram.
        # TYPE rpc_duration_seconds histogram
        rpc_duration_seconds_bucket{le="0.05"} 24054
        rpc_duration_seconds_bucket{le="0.1"} 33444
        rpc_duration_seconds_bucket{le="0.2"} 100392
        rpc_duration_seconds_bucket{le="+Inf"} 144320
        rpc_duration_seconds_sum 53423
        rpc_duration_seconds_count 144320

        """

    @Test func theFormatsOwnExampleParsesWithEscapesTimestampsAndHistograms() throws {
        let text = try PrometheusText(parsing: valid)
        #expect(
            text.families.map(\.name) == [
                "http_requests_total", "msdos_file_access_time_seconds", "up", "rpc_duration_seconds",
            ])
        #expect(text.family("http_requests_total")?.type == "counter")
        #expect(text.family("http_requests_total")?.help == "The total number of HTTP requests.")
        #expect(text.value("http_requests_total", ["code": "400"]) == 3)
        #expect(text.sum("http_requests_total") == 1030)
        #expect(text.samples("msdos_file_access_time_seconds").first?.labels["path"] == "C:\\DIR\\FILE.TXT")
        #expect(
            text.samples("msdos_file_access_time_seconds").first?.labels["error"] == "Cannot find file:\n\"FILE.TXT\"")
        #expect(text.value("up") == .infinity)
        #expect(text.buckets("rpc_duration_seconds").count == 4)
        #expect(text.value("rpc_duration_seconds_count") == 144320)
    }

    @Test(arguments: [
        ("up 1", "no final newline"),
        ("# TYPE up gauge\n# TYPE up gauge\nup 1\n", "second TYPE"),
        ("up 1\n# TYPE up gauge\n", "TYPE of up after its samples"),
        ("# TYPE up sometimes\n", "unknown type"),
        ("a 1\nb 1\na 2\n", "not contiguous"),
        ("a 1\na 2\n", "duplicate series"),
        ("9lives 1\n", "invalid metric name"),
        ("a{9x=\"1\"} 1\n", "invalid label name"),
        ("a{__name=\"1\"} 1\n", "reserved label name"),
        ("a{x=1} 1\n", "no quoted value"),
        ("a{x=\"\\t\"} 1\n", "bad escape"),
        ("a{x=\"1\",x=\"2\"} 1\n", "given twice"),
        ("a{x=\"1} 1\n", "unterminated"),
        ("a one\n", "bad value"),
        ("a 1 soon\n", "bad timestamp"),
        ("# TYPE c counter\nc -1\n", "negative"),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n", "no +Inf bucket"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
            "not cumulative"
        ),
        ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "_count differs"),
        ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "no _sum"),
        ("# TYPE h histogram\nh_bucket 2\nh_sum 1\nh_count 2\n", "without a valid le"),
    ])
    func aBrokenRuleIsNamed(text: String, complaint: String) {
        do {
            _ = try PrometheusText(parsing: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(complaint), "\(error) for \(text)")
        }
    }

    @Test func quantilesInterpolateWithinTheBucketBetweenTwoReadings() throws {
        let before = [(bound: 0.001, count: 10.0), (bound: 0.01, count: 10.0), (bound: Double.infinity, count: 10.0)]
        let after = [(bound: 0.001, count: 10.0), (bound: 0.01, count: 110.0), (bound: Double.infinity, count: 110.0)]
        let p99 = try #require(PrometheusText.quantile(0.99, of: after, since: before))
        #expect(abs(p99 - (0.001 + 0.009 * 0.99)) < 1e-9)
        #expect(PrometheusText.quantile(0.99, of: before, since: before) == nil)
    }
}
