using System.Globalization;
using System.Net;
using System.Text;

namespace TeleRehab.LoadTests.Load;

/// <summary>The run as one self-contained HTML page: figures, SLOs, charts drawn as inline SVG (no script, no style
/// sheet, font or image from anywhere else), the capacity steps and every participant.</summary>
public static class HtmlReport
{
    public sealed record Series(string Name, string Color, IReadOnlyList<(double X, double? Y)> Points);

    public static string Render(LoadReport report)
    {
        var run = report.Run;
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TeleRehab load test</title>")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
            .Append("<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}")
            .Append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
            .Append(".pass{color:#176f2c;font-weight:600}.fail{color:#b00020;font-weight:600}figure{display:inline-block;margin:0 16px 16px 0}")
            .Append("figcaption{font-weight:600;margin-bottom:4px}</style></head><body>");
        html.Append("<h1>Load test</h1><p>").Append(E(Describe(run))).Append("</p>");

        if (run.Slos.Count > 0)
        {
            html.Append("<h2>SLOs: <span class=\"").Append(run.SlosMet ? "pass\">met" : "fail\">not met").Append("</span></h2><table><tr><th>SLO</th><th>measured</th><th></th></tr>");
            foreach (var slo in run.Slos)
                html.Append("<tr><td>").Append(E(slo.Slo)).Append("</td><td>").Append(F(slo.Actual)).Append("</td><td class=\"")
                    .Append(slo.Met ? "pass\">met" : "fail\">failed").Append("</td></tr>");
            html.Append("</table>");
        }

        if (report.Capacity is { } capacity)
        {
            html.Append("<h2>Capacity</h2><p>Largest load with every SLO met: <b>").Append(capacity.LargestPassingRooms).Append(" rooms (")
                .Append(capacity.LargestPassingParticipants).Append(" participants)</b>. ");
            html.Append(capacity.FailedAt is { } failed
                ? $"Failed at {failed.Rooms} rooms ({failed.Participants} participants): {E(string.Join(", ", failed.Slos.Where(s => !s.Met).Select(s => $"{s.Slo} (measured {F(s.Actual)})")))}."
                : "No step failed up to the search's limit.");
            html.Append("</p><table><tr><th>rooms</th><th>participants</th><th>result</th>");
            var metrics = capacity.Steps.SelectMany(s => s.Slos.Select(x => x.Metric)).Distinct().ToList();
            foreach (var m in metrics) html.Append("<th>").Append(E(m)).Append("</th>");
            html.Append("</tr>");
            foreach (var step in capacity.Steps)
            {
                html.Append("<tr><td>").Append(step.Rooms).Append("</td><td>").Append(step.Participants).Append("</td><td class=\"")
                    .Append(step.Passed ? "pass\">pass" : "fail\">fail").Append("</td>");
                foreach (var m in metrics) html.Append("<td>").Append(F(step.Figures.GetValueOrDefault(m))).Append("</td>");
                html.Append("</tr>");
            }
            html.Append("</table>");
            html.Append(Chart("capacity", "Capacity steps", "rooms", "",
                [
                    new Series("join p95 (s)", "#1f77b4", capacity.Steps.Select(s => ((double)s.Rooms, s.Figures.GetValueOrDefault("join_p95") / 1000)).ToList()),
                    new Series("loss (%)", "#d62728", capacity.Steps.Select(s => ((double)s.Rooms, s.Figures.GetValueOrDefault("loss"))).ToList()),
                    new Series("server CPU (% of a core / 100)", "#2ca02c", capacity.Steps.Select(s => ((double)s.Rooms, s.Figures.GetValueOrDefault("server_cpu") / 100)).ToList()),
                ]));
            html.Append("<p>The charts below show the last step's run.</p>");
        }

        html.Append("<h2>Figures</h2><table><tr><th>figure</th><th>value</th></tr>");
        foreach (var (name, value) in run.Figures) html.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(F(value)).Append("</td></tr>");
        foreach (var (name, value) in run.ServerCounters) html.Append("<tr><td>server ").Append(E(name)).Append(" (during the run)</td><td>").Append(F(value)).Append("</td></tr>");
        html.Append("</table>");

        var t = run.Timeline;
        html.Append("<h2>Over time</h2>");
        html.Append(Chart("joins", "Participants", "s", "",
        [
            new Series("joined", "#1f77b4", t.Select(p => (p.Seconds, (double?)p.Joined)).ToList()),
            new Series("media flowing", "#2ca02c", t.Select(p => (p.Seconds, (double?)p.Flowing)).ToList()),
            new Series("failed", "#d62728", t.Select(p => (p.Seconds, (double?)p.Failed)).ToList()),
        ]));
        html.Append(Chart("bitrate", "Media received by all participants", "s", "kbit/s",
            [new Series("received", "#1f77b4", t.Select(p => (p.Seconds, (double?)p.ReceivedKbps)).ToList())]));
        html.Append(Chart("loss", "Loss", "s", "%", [new Series("loss", "#d62728", t.Select(p => (p.Seconds, p.LossPercent)).ToList())]));
        html.Append(Chart("latency", "End-to-end media latency", "s", "ms",
        [
            new Series("p50", "#1f77b4", t.Select(p => (p.Seconds, p.LatencyP50Ms)).ToList()),
            new Series("p95", "#ff7f0e", t.Select(p => (p.Seconds, p.LatencyP95Ms)).ToList()),
        ]));
        html.Append(Chart("cpu", "CPU (% of one core)", "s", "%",
        [
            new Series("server", "#9467bd", t.Select(p => (p.Seconds, p.ServerCpuPercent)).ToList()),
            new Series("generator", "#8c564b", t.Select(p => (p.Seconds, (double?)p.GeneratorCpuPercent)).ToList()),
        ]));

        html.Append("<h2>Participants</h2><table><tr><th>name</th><th>role</th><th>link</th><th>joined in (ms)</th><th>received</th><th>loss %</th>")
            .Append("<th>latency p50/p95 (ms)</th><th>jitter (ms)</th><th>without media (ms)</th><th>retransmissions</th><th>layer switches</th><th>mode changes</th><th>error</th></tr>");
        foreach (var p in run.Participants)
        {
            html.Append("<tr><td>").Append(E(p.Name)).Append("</td><td>").Append(E(p.Role)).Append("</td><td>").Append(E(p.Profile)).Append("</td><td>")
                .Append(F(p.JoinMs)).Append("</td><td>").Append(p.PacketsReceived).Append("</td><td>").Append(F(p.LossPercent)).Append("</td><td>")
                .Append(F(p.LatencyP50Ms)).Append(" / ").Append(F(p.LatencyP95Ms)).Append("</td><td>").Append(F(p.JitterMs)).Append("</td><td>")
                .Append(F(p.WithoutMediaMs)).Append("</td><td>").Append(p.Retransmissions).Append("</td><td>").Append(p.LayerSwitches).Append("</td><td>")
                .Append(p.ModeChanges).Append("</td><td>").Append(E(p.Error ?? "")).Append("</td></tr>");
        }
        html.Append("</table>");
        if (run.Errors.Count > 0)
        {
            html.Append("<h2>Errors</h2><ul>");
            foreach (var e in run.Errors) html.Append("<li>").Append(E(e)).Append("</li>");
            html.Append("</ul>");
        }
        html.Append("</body></html>");
        return html.ToString();
    }

    // The project runs with invariant globalization: interpolation formats numbers and dates invariantly.
    public static string Describe(LoadResult run) => (
        $"{run.Rooms} {run.Kind} rooms ({run.Participants.Count} participants) against {run.Target}, links {run.Profiles} for {run.LinksFor}, " +
        $"ramp {run.RampSeconds:0} s then {run.DurationSeconds:0} s, started {run.StartedAt:yyyy-MM-dd HH:mm:ss} UTC on {run.ProcessorCount} cores" +
        $"{(run.ServerPid is { } pid ? $", server process {pid}" : ", server CPU not measured (not on this machine)")}.");

    /// <summary>One line chart as an inline SVG: a polyline per series (points with no value are left out), axes with
    /// the extremes labelled, a legend.</summary>
    public static string Chart(string id, string title, string xUnit, string yUnit, IReadOnlyList<Series> series)
    {
        const double width = 560, height = 240, left = 52, right = 12, top = 12, bottom = 36;
        var points = series.SelectMany(s => s.Points.Where(p => p.Y is { } y && double.IsFinite(y)).Select(p => (p.X, Y: p.Y!.Value))).ToList();
        var xMin = points.Count > 0 ? points.Min(p => p.X) : 0;
        var xMax = points.Count > 0 ? points.Max(p => p.X) : 1;
        if (xMax <= xMin) xMax = xMin + 1;
        var yMax = points.Count > 0 ? points.Max(p => p.Y) : 1;
        yMax = yMax <= 0 ? 1 : yMax * 1.1;
        double X(double x) => left + (x - xMin) / (xMax - xMin) * (width - left - right);
        double Y(double y) => top + (1 - Math.Max(0, y) / yMax) * (height - top - bottom);
        var svg = new StringBuilder();
        svg.Append("<figure class=\"chart\" data-chart=\"").Append(E(id)).Append("\"><figcaption>").Append(E(title)).Append("</figcaption>")
            .Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">")
            .Append($"<rect x=\"{left}\" y=\"{top}\" width=\"{width - left - right}\" height=\"{height - top - bottom}\" fill=\"#fafafa\" stroke=\"#999\"/>")
            .Append($"<text x=\"{left - 4}\" y=\"{top + 10}\" font-size=\"11\" text-anchor=\"end\">{Short(yMax)}</text>")
            .Append($"<text x=\"{left - 4}\" y=\"{height - bottom}\" font-size=\"11\" text-anchor=\"end\">0</text>")
            .Append($"<text x=\"4\" y=\"{top + 24}\" font-size=\"11\">{E(yUnit)}</text>")
            .Append($"<text x=\"{left}\" y=\"{height - bottom + 14}\" font-size=\"11\">{Short(xMin)}</text>")
            .Append($"<text x=\"{width - right}\" y=\"{height - bottom + 14}\" font-size=\"11\" text-anchor=\"end\">{Short(xMax)} {E(xUnit)}</text>");
        var legendX = left;
        foreach (var s in series)
        {
            var coordinates = s.Points.Where(p => p.Y is { } y && double.IsFinite(y))
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.X):0.#},{Y(p.Y!.Value):0.#}")).ToList();
            if (coordinates.Count == 1) coordinates.Add(coordinates[0]);
            if (coordinates.Count > 0)
                svg.Append("<polyline data-series=\"").Append(E(s.Name)).Append("\" fill=\"none\" stroke-width=\"1.5\" stroke=\"").Append(s.Color)
                    .Append("\" points=\"").Append(string.Join(' ', coordinates)).Append("\"/>");
            svg.Append($"<rect x=\"{legendX}\" y=\"{height - 14}\" width=\"10\" height=\"10\" fill=\"{s.Color}\"/>")
                .Append($"<text x=\"{legendX + 14}\" y=\"{height - 5}\" font-size=\"11\">{E(s.Name)}{(coordinates.Count == 0 ? " (no data)" : "")}</text>");
            legendX += 24 + 7 * (s.Name.Length + (coordinates.Count == 0 ? 10 : 0));
        }
        svg.Append("</svg></figure>");
        return svg.ToString();
    }

    private static string Short(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.##", CultureInfo.InvariantCulture);

    private static string F(double? v) => v is { } x && double.IsFinite(x) ? x.ToString(Math.Abs(x) >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture) : "-";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
