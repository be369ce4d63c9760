package io.vmsched.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vmsched.metrics.CountersFile;
import io.vmsched.metrics.CountersFileReader;
import io.vmsched.tools.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code vmsched stat}: reads the counters file of a running node from another process and prints
 * its figures, refreshing (like AeronStat), or once, or as one JSON object.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
    description = "Show a running node's live figures from <data>/counters.dat.")
final class StatCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.DataDir dataDir = new Mixins.DataDir();

    @Option(names = "--once", description = "Print once and exit.")
    boolean once;

    @Mixin
    final Mixins.JsonOutput json = new Mixins.JsonOutput();

    @Option(names = "--interval-ms", defaultValue = "1000", description = "Refresh period, ms, 100-3600000 (default: ${DEFAULT-VALUE}).")
    long intervalMs;

    @Option(names = "--registry", description = "Show the cluster across machines instead, from the registry's " +
        "directory: its members, ID=HOST:PORT,... (needs --secret).")
    String registry;

    @Option(names = "--secret", description = "With --registry: the cluster's secret file.")
    Path secret;

    /** The longest refresh period: an hour. */
    static final long MAX_INTERVAL_MS = 3_600_000;

    /** One reading of the file. */
    static final class Reading
    {
        final Map<String, Object> machine = new LinkedHashMap<>();
        final Map<Integer, Map<String, Object>> hosts = new TreeMap<>();
        final Map<String, Map<String, Object>> external = new LinkedHashMap<>();
        String stale;
        long pid;
        long heartbeatMs;
    }

    @Override
    public void run()
    {
        Flags.within("--interval-ms", intervalMs, 100, MAX_INTERVAL_MS);
        if (registry != null)
        {
            cluster();
            return;
        }
        final Path data = dataDir.checked();
        final PrintWriter out = spec.commandLine().getOut();
        do
        {
            // opened afresh each time: a node that restarted has made a new file
            try (CountersFileReader reader = CountersFileReader.open(data))
            {
                final Reading reading = read(reader);
                if (json.wanted())
                {
                    json(out, reading);
                    out.flush();
                    return;
                }
                table(out, data, reading);
                out.flush();
            }
            if (!once)
            {
                Clock.sleepUntil(System.nanoTime() + intervalMs * 1_000_000L);
            }
        }
        while (!once);
    }

    static Reading read(final CountersFileReader reader)
    {
        final Reading reading = new Reading();
        reading.pid = reader.pid();
        reading.heartbeatMs = reader.heartbeatMs();
        reading.stale = reader.staleness(System.currentTimeMillis());
        reader.forEach((host, type, label, value) ->
        {
            final Object v = type == CountersFile.TYPE_PPM ? value / 1e6 : type == CountersFile.TYPE_MILLI ? value / 1e3 :
                (Object)value;
            if (label.startsWith("vm:"))
            {
                // vm:<id>:<name>:<metric>; a name may hold ':' (split at the first two and the last)
                final int second = label.indexOf(':', 3);
                final int last = label.lastIndexOf(':');
                if (second < 0 || last <= second)
                {
                    return; // a label cut short by Agrona's limit: skip it rather than guess
                }
                final String[] parts = { "vm", label.substring(3, second), label.substring(second + 1, last),
                    label.substring(last + 1) };
                if (!parts[1].matches("\\d{1,18}"))
                {
                    return; // not a label our writer makes: skip it rather than guess
                }
                final String key = parts[1] + ":" + parts[2];
                final Map<String, Object> vm = reading.external.computeIfAbsent(key, k ->
                {
                    final Map<String, Object> m = new LinkedHashMap<>();
                    m.put("vm", Long.parseLong(parts[1]));
                    m.put("name", parts[2]);
                    m.put("host", host);
                    return m;
                });
                vm.put(parts[3], v);
            }
            else if (host < 0)
            {
                reading.machine.put(label, v);
            }
            else
            {
                reading.hosts.computeIfAbsent(host, h -> new LinkedHashMap<>(Map.of("host", h))).put(label, v);
            }
        });
        return reading;
    }

    private static void table(final PrintWriter out, final Path data, final Reading r)
    {
        out.printf(Locale.ROOT, "vmsched stat: %s, pid %d, heartbeat %s%n", data.resolve(CountersFile.FILE_NAME), r.pid,
            r.heartbeatMs < 0 ? "none (closed)" : String.format(Locale.ROOT, "%.1f s ago",
            (System.currentTimeMillis() - r.heartbeatMs) / 1e3));
        if (r.stale != null)
        {
            out.println("stale: " + r.stale);
        }
        final Map<String, Object> m = r.machine;
        out.printf(Locale.ROOT, "machine: cpu %.1f%% of %s, memory %s / %s, disk read %s/s write %s/s, network in %s/s " +
            "out %s/s, load average %.2f%n", 100 * num(m, "cpu"), m.get("processors"), bytes(num(m, "memoryUsed")),
            bytes(num(m, "memoryTotal")), bytes(num(m, "diskRead")), bytes(num(m, "diskWrite")),
            bytes(num(m, "networkIn")), bytes(num(m, "networkOut")), num(m, "loadAverage"));
        out.printf("%-5s %7s %5s %6s %6s %7s %12s %9s %10s%n", "host", "load", "vms", "in", "out", "aborts", "slices",
            "journal", "decisions");
        for (final Map<String, Object> h : r.hosts.values())
        {
            out.printf(Locale.ROOT, "%-5s %7.3f %5s %6s %6s %7s %12s %9s %10s%n", h.get("host"), num(h, "load"), h.get("vms"),
                h.get("migrationsIn"), h.get("migrationsOut"), h.get("aborts"), h.get("slices"), h.get("journalRecords"),
                h.get("decisions"));
        }
        for (final Map<String, Object> vm : r.external.values())
        {
            out.printf(Locale.ROOT, "external vm %s %s (host %s): %s, cpu %.3f cores, resident %s, read %s/s, write %s/s%n",
                vm.get("vm"), vm.get("name"), vm.get("host"), num(vm, "alive") == 1 ? "alive" : "gone", num(vm, "cpu"),
                bytes(num(vm, "resident")), bytes(num(vm, "read")), bytes(num(vm, "write")));
        }
        out.println();
    }

    private static double num(final Map<String, Object> map, final String key)
    {
        final Object v = map.get(key);
        return v instanceof Number ? ((Number)v).doubleValue() : Double.NaN;
    }

    private static String bytes(final double b)
    {
        if (b >= 1 << 30)
        {
            return String.format(Locale.ROOT, "%.1f GiB", b / (1 << 30));
        }
        if (b >= 1 << 20)
        {
            return String.format(Locale.ROOT, "%.1f MiB", b / (1 << 20));
        }
        if (b >= 1 << 10)
        {
            return String.format(Locale.ROOT, "%.1f KiB", b / (1 << 10));
        }
        return String.format(Locale.ROOT, "%.0f B", b);
    }

    /**
     * The reading as one JSON line: {@code pid, heartbeatMs, stale, machine, hosts, external}, each
     * figure under its counter's label.
     */
    static void json(final PrintWriter out, final Reading r)
    {
        try (JsonGenerator g = Json.lines(out))
        {
            g.writeStartObject();
            g.writeNumberField("pid", r.pid);
            g.writeNumberField("heartbeatMs", r.heartbeatMs);
            g.writeStringField("stale", r.stale); // null when fresh
            g.writeFieldName("machine");
            object(g, r.machine);
            array(g, "hosts", r.hosts.values());
            array(g, "external", r.external.values());
            g.writeEndObject();
            Json.endLine(g);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private static void array(final JsonGenerator g, final String name, final Collection<Map<String, Object>> items)
        throws IOException
    {
        g.writeArrayFieldStart(name);
        for (final Map<String, Object> item : items)
        {
            object(g, item);
        }
        g.writeEndArray();
    }

    private static void object(final JsonGenerator g, final Map<String, Object> map) throws IOException
    {
        g.writeStartObject();
        for (final Map.Entry<String, Object> e : map.entrySet())
        {
            final Object v = e.getValue();
            if (v instanceof Double)
            {
                Json.number(g, e.getKey(), (Double)v);
            }
            else if (v instanceof Number)
            {
                g.writeNumberField(e.getKey(), ((Number)v).longValue()); // a count, a host, a vm id
            }
            else
            {
                g.writeStringField(e.getKey(), String.valueOf(v));
            }
        }
        g.writeEndObject();
    }

    /** {@code --registry}: every node the registry knows, as it last reported. */
    private void cluster()
    {
        if (secret == null)
        {
            throw new IllegalArgumentException("--registry needs --secret (the cluster's secret file)");
        }
        final byte[] key = io.vmsched.aeron.ClusterSecret.read(secret);
        final PrintWriter out = spec.commandLine().getOut();
        try (io.vmsched.aeron.registry.RegistryClient client = io.vmsched.aeron.registry.RegistryClient.connect(
            new io.vmsched.aeron.registry.RegistryClient.Context()
                .members(io.vmsched.aeron.registry.RegistryMember.ingressEndpoints(registry)).secret(key)
                .connectTimeout(10, java.util.concurrent.TimeUnit.SECONDS).log(line -> { })))
        {
            do
            {
                final java.util.List<io.vmsched.aeron.registry.RegistryClient.NodeInfo> nodes = client.directory();
                if (json.wanted())
                {
                    clusterJson(out, nodes);
                    out.flush();
                    return;
                }
                out.printf("vmsched stat: the cluster of the registry at %s (leader: member %d), %d node(s)%n", registry,
                    client.leaderMemberId(), nodes.size());
                out.printf("%-5s %-20s %-22s %-5s %7s %6s  %s%n", "node", "name", "endpoint", "up", "load", "vms", "labels");
                double[] loads = new double[nodes.size()];
                int n = 0;
                for (final io.vmsched.aeron.registry.RegistryClient.NodeInfo node : nodes)
                {
                    out.printf(Locale.ROOT, "%-5d %-20s %-22s %-5s %7s %6s  %s%n", node.nodeId(), node.name(), node.endpoint(),
                        node.up() ? "up" : "down", node.reported() ? String.format(Locale.ROOT, "%.3f", node.load()) : "-",
                        node.reported() ? Integer.toString(node.vmCount()) : "-", node.labels());
                    if (node.up() && node.reported())
                    {
                        loads[n++] = node.load();
                    }
                }
                loads = java.util.Arrays.copyOf(loads, n);
                out.printf(Locale.ROOT, "cv of the loads of the nodes up: %.3f%n%n", io.vmsched.load.ClusterStats.cv(loads));
                out.flush();
                if (!once)
                {
                    Clock.sleepUntil(System.nanoTime() + intervalMs * 1_000_000L);
                    client.poll();
                }
            }
            while (!once);
        }
    }

    private static void clusterJson(final PrintWriter out,
        final java.util.List<io.vmsched.aeron.registry.RegistryClient.NodeInfo> nodes)
    {
        try (JsonGenerator g = Json.lines(out))
        {
            g.writeStartObject();
            g.writeArrayFieldStart("nodes");
            for (final io.vmsched.aeron.registry.RegistryClient.NodeInfo node : nodes)
            {
                g.writeStartObject();
                g.writeNumberField("node", node.nodeId());
                g.writeStringField("name", node.name());
                g.writeStringField("endpoint", node.endpoint());
                g.writeBooleanField("up", node.up());
                if (node.reported())
                {
                    g.writeNumberField("load", node.load());
                    g.writeNumberField("vms", node.vmCount());
                }
                g.writeStringField("labels", node.labels());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            Json.endLine(g);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
