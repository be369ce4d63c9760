package io.vmsched.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vmsched.placement.Rule;
import io.vmsched.placement.StatusReport;
import io.vmsched.tools.Json;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The services' status as a running process leaves it for {@code vmsched status} in its data
 * directory: {@value #JSON} and {@value #TEXT}, each replaced whole (written aside, then renamed), so a
 * reader never sees half of one. Also the one JSON form of a {@link StatusReport}.
 */
final class StatusFiles
{
    /** The status as one JSON object. */
    static final String JSON = "status.json";
    /** The status as the terminal shows it. */
    static final String TEXT = "status.txt";
    /** A status file older than this is a stopped process's: {@code vmsched status} reads the journals instead. */
    static final long FRESH_MS = 5_000;

    private StatusFiles()
    {
    }

    /**
     * Replace the directory's status files.
     *
     * @param dir    the data directory.
     * @param report the status.
     */
    static void write(final Path dir, final StatusReport report)
    {
        replace(dir.resolve(JSON), json(report) + "\n");
        replace(dir.resolve(TEXT), report.toText());
    }

    private static void replace(final Path file, final String text)
    {
        final Path aside = file.resolveSibling(file.getFileName() + ".tmp");
        try
        {
            Files.writeString(aside, text, StandardCharsets.UTF_8);
            Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + file + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @param dir a data directory.
     * @return whether a running process holds it and refreshed its status files lately.
     */
    static boolean fresh(final Path dir)
    {
        try
        {
            final Path file = dir.resolve(JSON);
            return Files.isRegularFile(file) && io.vmsched.cluster.DataDirectory.holder(dir) != null &&
                System.currentTimeMillis() - Files.getLastModifiedTime(file).toMillis() < FRESH_MS;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /**
     * @param report a status.
     * @return it as one JSON object (one line).
     */
    static String json(final StatusReport report)
    {
        final StringWriter text = new StringWriter();
        try (JsonGenerator g = Json.lines(text))
        {
            g.writeStartObject();
            g.writeArrayFieldStart("services");
            for (final StatusReport.ServiceReport s : report.services())
            {
                g.writeStartObject();
                g.writeStringField("name", s.service().name());
                g.writeNumberField("size", s.service().desiredSize());
                g.writeNumberField("min", s.service().minRunning());
                g.writeStringField("status", s.health().word());
                g.writeStringField("cause", s.cause());
                g.writeNumberField("sinceEpochMs", s.since());
                g.writeNumberField("running", StatusReport.running(s));
                g.writeArrayFieldStart("vms");
                for (final StatusReport.VmReport vm : s.vms())
                {
                    g.writeStartObject();
                    g.writeNumberField("vm", vm.vmId());
                    g.writeNumberField("host", vm.host());
                    g.writeStringField("state", vm.state());
                    Json.number(g, "cpuCores", vm.cpuCores());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("rules");
            for (final StatusReport.RuleReport r : report.rules())
            {
                final Rule rule = r.rule();
                g.writeStartObject();
                g.writeStringField("name", rule.name());
                g.writeStringField("rule", rule.toString());
                g.writeBooleanField("hard", rule.hard());
                g.writeBooleanField("holds", r.holds());
                g.writeArrayFieldStart("breaking");
                for (final Long vm : r.breaking())
                {
                    g.writeNumber(vm);
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return text.toString().strip();
    }
}
