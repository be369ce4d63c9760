package io.vmsched.tools;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One self-contained HTML page of a history: each host's load over time, the CV of the loads over
 * time, migrations as marks on the time axis, and the stats tables. Charts are inline SVG drawn
 * here, so the page needs no script and no network to view.
 */
public final class Report
{
    private static final String[] COLOURS = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    private static final int WIDTH = 900;
    private static final int HEIGHT = 260;
    private static final int LEFT = 50;
    private static final int BOTTOM = 30;

    private Report()
    {
    }

    /**
     * @param history a finished history.
     * @param title   what the page is about (the journal's directory, say).
     * @return the page.
     */
    public static String html(final History history, final String title)
    {
        final StringBuilder out = new StringBuilder(64 * 1024);
        out.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>vmsched journal report</title><style>")
            .append("body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}")
            .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}")
            .append("svg{background:#fff;border:1px solid #ddd}.legend span{margin-right:14px}</style></head><body>");
        out.append("<h1>vmsched journal report</h1><p>").append(escape(title)).append("</p><p>")
            .append(escape(history.summary())).append("</p>");

        final Map<Integer, List<History.LoadPoint>> byHost = new TreeMap<>();
        double maxLoad = 1e-9;
        for (final History.LoadPoint p : history.loadPoints())
        {
            byHost.computeIfAbsent(p.host(), h -> new ArrayList<>()).add(p);
            maxLoad = Math.max(maxLoad, p.load());
        }
        final long t0 = history.firstNs();
        final double span = Math.max(1e-9, (history.lastNs() - t0) / 1e9);

        out.append("<h2>Load of each host</h2><div class=\"legend\">");
        for (final int host : byHost.keySet())
        {
            out.append("<span style=\"color:").append(colour(host)).append("\">&#9632; host ").append(host).append("</span>");
        }
        out.append("<span style=\"color:#999\">| migration</span></div>");
        out.append(svgOpen("loads")).append(axes(span, maxLoad, "load"));
        for (final History.Migration m : history.migrations())
        {
            if (m.committed())
            {
                final double x = x(m.activatedNs, t0, span);
                out.append(String.format(Locale.ROOT, "<line class=\"migration\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" " +
                    "y2=\"%d\" stroke=\"#bbb\" stroke-width=\"1\"/>", x, HEIGHT - BOTTOM, x, HEIGHT - BOTTOM - 8));
            }
        }
        for (final Map.Entry<Integer, List<History.LoadPoint>> e : byHost.entrySet())
        {
            out.append("<polyline class=\"load\" data-host=\"").append(e.getKey()).append("\" fill=\"none\" stroke=\"")
                .append(colour(e.getKey())).append("\" stroke-width=\"2\" points=\"");
            for (final History.LoadPoint p : e.getValue())
            {
                out.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(p.timeNs(), t0, span), y(p.load(), maxLoad)));
            }
            out.append("\"/>");
        }
        out.append("</svg>");

        // CV over time: at each snapshot, the CV of every host's latest load
        final Map<Integer, Integer> position = new TreeMap<>();
        for (final int host : byHost.keySet())
        {
            position.put(host, position.size());
        }
        final double[] latest = new double[byHost.size()];
        final boolean[] seen = new boolean[latest.length];
        int seenCount = 0;
        final StringBuilder cvPoints = new StringBuilder();
        final List<double[]> cvs = new ArrayList<>();
        double maxCv = 1e-9;
        for (final History.LoadPoint p : history.loadPoints())
        {
            final int i = position.get(p.host());
            latest[i] = p.load();
            seenCount += seen[i] ? 0 : 1;
            seen[i] = true;
            if (seenCount == latest.length)
            {
                final double cv = io.vmsched.load.ClusterStats.cv(latest);
                cvs.add(new double[] { x(p.timeNs(), t0, span), cv });
                maxCv = Math.max(maxCv, cv);
            }
        }
        for (final double[] c : cvs)
        {
            cvPoints.append(String.format(Locale.ROOT, "%.1f,%.1f ", c[0], y(c[1], maxCv)));
        }
        out.append("<h2>Coefficient of variation of the hosts' loads</h2>").append(svgOpen("cv"))
            .append(axes(span, maxCv, "CV"))
            .append("<polyline class=\"cv\" fill=\"none\" stroke=\"#333\" stroke-width=\"2\" points=\"")
            .append(cvPoints).append("\"/></svg>");

        out.append("<h2>Handoffs</h2><table><tr><th>committed</th><th>aborted</th><th>in doubt</th>")
            .append("<th>resolved by recovery</th></tr><tr><td>").append(history.migrationsCommitted()).append("</td><td>")
            .append(history.migrationsAborted()).append("</td><td>").append(history.inDoubt()).append("</td><td>")
            .append(history.resolvedByRecovery()).append("</td></tr></table>");
        out.append("<table><tr><th>step</th><th>count</th><th>p50 µs</th><th>p90 µs</th><th>p99 µs</th><th>max µs</th></tr>");
        for (final Map.Entry<String, Histogram> e : history.stepLatencies().entrySet())
        {
            final Histogram h = e.getValue();
            out.append("<tr><th>").append(escape(e.getKey())).append("</th><td>").append(h.getTotalCount())
                .append("</td><td>").append(h.getValueAtPercentile(50)).append("</td><td>")
                .append(h.getValueAtPercentile(90)).append("</td><td>").append(h.getValueAtPercentile(99))
                .append("</td><td>").append(h.getMaxValue()).append("</td></tr>");
        }
        out.append("</table>");
        table(out, "Aborts by reason", history.abortReasons());
        table(out, "Balance decisions by outcome", history.decisions());
        table(out, "Balloon requests and results by outcome", history.balloons());
        out.append("</body></html>\n");
        return out.toString();
    }

    private static void table(final StringBuilder out, final String title, final Map<String, Long> counts)
    {
        out.append("<h2>").append(escape(title)).append("</h2><table><tr><th>what</th><th>count</th></tr>");
        for (final Map.Entry<String, Long> e : counts.entrySet())
        {
            out.append("<tr><td style=\"text-align:left\">").append(escape(e.getKey())).append("</td><td>")
                .append(e.getValue()).append("</td></tr>");
        }
        out.append("</table>");
    }

    private static String svgOpen(final String id)
    {
        return "<svg id=\"" + id + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + WIDTH + "\" height=\"" + HEIGHT +
            "\" viewBox=\"0 0 " + WIDTH + " " + HEIGHT + "\">";
    }

    private static String axes(final double spanSeconds, final double max, final String what)
    {
        final int bottom = HEIGHT - BOTTOM;
        return String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>" +
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>" +
            "<text x=\"4\" y=\"16\" font-size=\"11\">%.2f</text><text x=\"4\" y=\"%d\" font-size=\"11\">0</text>" +
            "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>" +
            "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.1f s</text>",
            LEFT, LEFT, bottom, LEFT, bottom, WIDTH - 10, bottom, max, bottom, LEFT + 6, 20, what, WIDTH - 10,
            HEIGHT - 8, spanSeconds);
    }

    private static double x(final long timeNs, final long t0, final double spanSeconds)
    {
        return LEFT + (WIDTH - LEFT - 10) * ((timeNs - t0) / 1e9) / spanSeconds;
    }

    private static double y(final double value, final double max)
    {
        return (HEIGHT - BOTTOM) - (HEIGHT - BOTTOM - 10) * value / max;
    }

    static String colour(final int host)
    {
        return COLOURS[Math.floorMod(host, COLOURS.length)];
    }

    private static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
