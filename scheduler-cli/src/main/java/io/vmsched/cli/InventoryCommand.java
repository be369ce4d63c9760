package io.vmsched.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vmsched.cluster.JournalInventory;
import io.vmsched.forecast.CapacityForecast;
import io.vmsched.forecast.CapacityOutlook;
import io.vmsched.placement.Inventory;
import io.vmsched.tools.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code vmsched inventory}: per host and for the cluster, each resource's capacity, reserved, used,
 * required, free and overcommit, and how many more VMs of a size fit ({@link Inventory}); with
 * {@code --forecast H}, when each runs out at the current trend and how many hosts the next H hours need
 * ({@link CapacityOutlook}). Read from the data directory's load records ({@link JournalInventory}), of a
 * running cluster or node (at most a snapshot period old) or of a stopped one.
 */
@Command(name = "inventory", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Show the resources of each host and of the cluster (capacity, reserved, used, required, free, " +
        "overcommit, headroom), and with --forecast when they run out and how many hosts are needed, from the " +
        "load records of a data directory (a running cluster's or node's, or a stopped one's).")
final class InventoryCommand implements Runnable
{
    private static final double GIB = 1024.0 * 1024 * 1024;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.DataDir dataDir = new Mixins.DataDir();

    @Option(names = "--vm-size", description = "CPU,MEM,IO: the VM size the headroom counts: reference cores, memory " +
        "bytes, I/O bytes a second; K, M, G, T suffixes are powers of 1024 (e.g. 2,4G,50M). Default: the cluster's " +
        "mean VM as required now.")
    String vmSize;

    @Option(names = "--forecast", description = "Forecast the next HOURS (e.g. 24, or 0.5): when each resource runs " +
        "out at the current trend, and how many hosts of today's size are needed.")
    Double forecastHours;

    @Option(names = "--step-s", description = "With --forecast: the step the load history is averaged to, seconds " +
        "(default: 60, or the snapshot period for a history under an hour).")
    Double stepSeconds;

    @Option(names = "--season-h", defaultValue = "24", description = "With --forecast: the season, hours, used where " +
        "the history holds two of them; 0 for none (default: ${DEFAULT-VALUE}).")
    double seasonHours;

    @Option(names = "--target-utilisation", defaultValue = "0.8", description = "With --forecast: the share of a host " +
        "the demand may take, in (0, 1] (default: ${DEFAULT-VALUE}).")
    double targetUtilisation;

    @Mixin
    final Mixins.JsonOutput json = new Mixins.JsonOutput();

    @Override
    public void run()
    {
        final Path dir = dataDir.checked();
        if (!Files.isDirectory(dir))
        {
            throw new IllegalArgumentException("--data " + dir + " does not exist");
        }
        if (forecastHours != null && !(forecastHours > 0 && Double.isFinite(forecastHours)))
        {
            throw new IllegalArgumentException("--forecast needs a number of hours above 0, got " + forecastHours);
        }
        if (stepSeconds != null && !(stepSeconds >= 0.001 && Double.isFinite(stepSeconds)))
        {
            throw new IllegalArgumentException("--step-s needs seconds of at least 0.001, got " + stepSeconds);
        }
        Flags.within("--season-h", seasonHours, 0, 24 * 366);
        if (!(targetUtilisation > 0 && targetUtilisation <= 1))
        {
            throw new IllegalArgumentException("--target-utilisation must be in (0, 1], got " + targetUtilisation);
        }
        final double[] size = vmSize == null ? null : parseSize(vmSize);
        final JournalInventory records = JournalInventory.read(dir);
        Inventory inventory = records.inventory(1, 0, 0);
        final double[] asked = size != null ? size : meanVm(inventory);
        if (asked != null)
        {
            inventory = records.inventory(asked[0], asked[2], asked[1]);
        }
        CapacityOutlook outlook = null;
        if (forecastHours != null)
        {
            final long stepNs = stepSeconds != null ? Math.round(stepSeconds * 1e9) :
                records.spanNs() < 3_600_000_000_000L ? records.snapshotPeriodNs() : 60_000_000_000L;
            final double horizon = forecastHours * 3600e9 / stepNs;
            final long history = records.spanNs() / stepNs + 1;
            if (Math.ceil(horizon - 1e-9) > history)
            {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--forecast %s h is beyond the history of %s " +
                    "(%.3f h of load records): a trend is not extrapolated further than the history it was seen on",
                    number(forecastHours), dir, records.spanNs() / 3600e9));
            }
            outlook = records.forecast(stepNs, (int)Math.max(1, Math.ceil(horizon - 1e-9)),
                (int)Math.round(seasonHours * 3600e9 / stepNs), targetUtilisation);
        }
        final PrintWriter out = spec.commandLine().getOut();
        if (json.wanted())
        {
            out.println(json(inventory, asked, outlook));
        }
        else
        {
            out.printf(Locale.ROOT, "(the load records of %s, the last %.1f s ago)%n", dir,
                (System.currentTimeMillis() * 1e6 - records.lastNs()) / 1e9);
            out.print(inventory.toText());
            out.println(asked == null ? "(no VMs: give --vm-size for the headroom)" : String.format(Locale.ROOT,
                "headroom counted in VMs of %.3f cores, %.3f GiB, %.2f MB/s%s", asked[0], asked[1] / GIB, asked[2] / 1e6,
                size == null ? " (the mean VM now; --vm-size to ask another)" : ""));
            if (outlook != null)
            {
                out.print(outlook.toText());
            }
        }
        out.flush();
    }

    /** @return CPU, memory, I/O of the cluster's mean VM as required now, or null if it has none. */
    private static double[] meanVm(final Inventory inventory)
    {
        final Inventory.Row c = inventory.cluster();
        if (c.vms() == 0 || c.cpu().required() + c.memory().required() + c.io().required() <= 0)
        {
            return null;
        }
        return new double[]{ c.cpu().required() / c.vms(), c.memory().required() / c.vms(), c.io().required() / c.vms() };
    }

    /**
     * @param text {@code CPU,MEM,IO}.
     * @return CPU, memory, I/O.
     */
    static double[] parseSize(final String text)
    {
        final String[] parts = text.split(",", -1);
        if (parts.length != 3)
        {
            throw new IllegalArgumentException("--vm-size needs CPU,MEM,IO (e.g. 2,4G,50M), got '" + text + "'");
        }
        final double[] size = new double[3];
        for (int i = 0; i < 3; i++)
        {
            final String part = parts[i].strip();
            double scale = 1;
            String digits = part;
            if (i > 0 && !part.isEmpty())
            {
                final int unit = "KMGT".indexOf(Character.toUpperCase(part.charAt(part.length() - 1)));
                if (unit >= 0)
                {
                    scale = Math.pow(1024, unit + 1);
                    digits = part.substring(0, part.length() - 1);
                }
            }
            try
            {
                size[i] = Double.parseDouble(digits) * scale;
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("--vm-size: '" + part + "' is not a number" + (i > 0 ?
                    " (with an optional K, M, G or T)" : "") + " in '" + text + "'");
            }
            if (!(size[i] >= 0) || Double.isInfinite(size[i]))
            {
                throw new IllegalArgumentException("--vm-size: '" + part + "' must be at least 0 and finite, in '" + text + "'");
            }
        }
        if (size[0] + size[1] + size[2] == 0)
        {
            throw new IllegalArgumentException("--vm-size: a VM of nothing fits without end; give CPU, MEM or IO above 0");
        }
        return size;
    }

    private static String number(final double value)
    {
        return value == Math.rint(value) ? Long.toString((long)value) : Double.toString(value);
    }

    private static String json(final Inventory inventory, final double[] asked, final CapacityOutlook outlook)
    {
        final StringWriter text = new StringWriter();
        try (JsonGenerator g = Json.lines(text))
        {
            g.writeStartObject();
            if (asked != null)
            {
                g.writeObjectFieldStart("vmSize");
                Json.number(g, "cpuCores", asked[0]);
                Json.number(g, "memoryBytes", asked[1]);
                Json.number(g, "ioBytesPerSecond", asked[2]);
                g.writeEndObject();
            }
            g.writeArrayFieldStart("hosts");
            for (final Inventory.Row row : inventory.hosts())
            {
                row(g, row);
            }
            g.writeEndArray();
            g.writeFieldName("cluster");
            row(g, inventory.cluster());
            if (outlook != null)
            {
                g.writeObjectFieldStart("forecast");
                g.writeNumberField("stepSeconds", outlook.stepNs() / 1e9);
                g.writeNumberField("horizonSteps", outlook.horizonSteps());
                g.writeNumberField("seasonSteps", outlook.season());
                g.writeNumberField("targetUtilisation", outlook.targetUtilisation());
                g.writeNumberField("hostsNeeded", outlook.hostsNeeded());
                g.writeArrayFieldStart("hosts");
                for (final CapacityOutlook.Row row : outlook.hosts())
                {
                    outlook(g, row, outlook.stepNs());
                }
                g.writeEndArray();
                g.writeFieldName("cluster");
                outlook(g, outlook.cluster(), outlook.stepNs());
                g.writeEndObject();
            }
            g.writeEndObject();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return text.toString().strip();
    }

    private static void row(final JsonGenerator g, final Inventory.Row row) throws IOException
    {
        g.writeStartObject();
        if (row.host() >= 0)
        {
            g.writeNumberField("host", row.host());
        }
        g.writeNumberField("vms", row.vms());
        resource(g, "cpu", row.cpu());
        resource(g, "io", row.io());
        resource(g, "memory", row.memory());
        if (row.headroom() >= 0)
        {
            g.writeNumberField("headroom", row.headroom());
        }
        if (row.closed() != null)
        {
            g.writeStringField("closed", row.closed());
        }
        g.writeEndObject();
    }

    private static void resource(final JsonGenerator g, final String name, final Inventory.Resource r) throws IOException
    {
        g.writeObjectFieldStart(name);
        Json.number(g, "capacity", r.capacity());
        Json.number(g, "reserved", r.reserved());
        Json.number(g, "used", r.used());
        Json.number(g, "required", r.required());
        Json.number(g, "free", r.free());
        Json.number(g, "overcommit", r.overcommit());
        g.writeEndObject();
    }

    private static void outlook(final JsonGenerator g, final CapacityOutlook.Row row, final long stepNs) throws IOException
    {
        g.writeStartObject();
        if (row.host() >= 0)
        {
            g.writeNumberField("host", row.host());
        }
        for (int r = 0; r < CapacityOutlook.RESOURCES.size(); r++)
        {
            final CapacityOutlook.Resource x = row.resources()[r];
            g.writeObjectFieldStart(CapacityOutlook.RESOURCES.get(r));
            Json.number(g, "now", x.now());
            Json.number(g, "peak", x.peak());
            Json.number(g, "limit", x.limit());
            if (x.stepsToFull() == CapacityForecast.NEVER)
            {
                g.writeNullField("fullInSeconds");
            }
            else
            {
                g.writeNumberField("fullInSeconds", x.stepsToFull() * (stepNs / 1e9));
            }
            if (x.hostsNeeded() >= 0)
            {
                g.writeNumberField("hostsNeeded", x.hostsNeeded());
            }
            g.writeEndObject();
        }
        g.writeEndObject();
    }
}
