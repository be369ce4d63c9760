package io.vmsched.cli;

import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.tools.History;
import io.vmsched.tools.JournalSet;
import io.vmsched.tools.JsonRecords;
import io.vmsched.tools.RecordFilter;
import io.vmsched.tools.Report;
import io.vmsched.tools.Tail;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code vmsched journal …}: the tools that read what the scheduler journaled (dump, replay,
 * verify, timeline, stats, report, tail). Each takes one or more DIRs, read together: a data directory
 * (with {@code journal/<host>/}), a node's data directory (its own host's journal only), a demo run
 * directory, or a {@code journal} directory itself. Each host's journal may be given once.
 */
@Command(name = "journal", mixinStandardHelpOptions = true,
    description = "Read the hosts' journals: dump, replay, verify, timeline, stats, report, tail.",
    subcommands = { JournalCommand.Dump.class, JournalCommand.Replay.class, JournalCommand.Verify.class,
        JournalCommand.Timeline.class, JournalCommand.Stats.class, JournalCommand.ReportCommand.class,
        JournalCommand.TailCommand.class })
final class JournalCommand implements Runnable
{
    /** The journal directories every subcommand reads: one or more, positional. */
    static final class Journals
    {
        @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
        CommandLine.Model.CommandSpec mixee;

        @CommandLine.Parameters(arity = "1..*", paramLabel = "<dir>", description = "Journal directories, read " +
            "together: a data directory (journal/<host>/ inside), a node's data directory, a demo run directory or a " +
            "journal directory. Give every node's directory to see a cluster whole; each host's journal once.")
        List<Path> dirs;

        /** @return the command's standard output. */
        PrintWriter out()
        {
            return mixee.commandLine().getOut();
        }

        /** @return the directories as the user gave them, for messages. */
        String names()
        {
            return String.join(" ", dirs.stream().map(Path::toString).toList());
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "a journal command is needed, e.g. 'vmsched journal verify DIR'");
    }

    static String time(final long ns)
    {
        return Instant.ofEpochSecond(0, ns).toString();
    }

    static String line(final long seq, final int host, final long index, final JournalRecord r)
    {
        return String.format(Locale.ROOT, "#%d %s host %d idx %d %s", seq, time(r.timestampNs()), host, index, r);
    }

    /** Reads every record into a history, with progress on a terminal. */
    static History history(final List<Path> dirs)
    {
        return history(dirs, new History());
    }

    static History history(final List<Path> dirs, final History history)
    {
        final boolean progress = System.console() != null;
        try (JournalSet set = JournalSet.open(dirs))
        {
            set.forEach(new JournalSet.Handler()
            {
                @Override
                public void onHosts(final int[] hosts)
                {
                    history.onHosts(hosts); // which hosts' journals it has: a handoff with another is a finding
                }

                @Override
                public boolean onRecord(final long seq, final int host, final long index, final JournalRecord record)
                {
                    if (progress && seq % 1_000_000 == 0 && seq > 0)
                    {
                        System.err.print("\rread " + seq + " records…");
                    }
                    return history.onRecord(seq, host, index, record);
                }
            });
        }
        finally
        {
            if (progress)
            {
                System.err.print("\r                              \r");
            }
        }
        return history.finish();
    }

    @Command(name = "dump", mixinStandardHelpOptions = true, description = "Decoded records, one per line, in merged order: each handoff in its message order, the rest by time.")
    static final class Dump implements Runnable
    {
        @Mixin
        final Journals journal = new Journals();
        @Option(names = "--from", defaultValue = "0", description = "First record number (default: 0).")
        long from;
        @Option(names = "--to", defaultValue = "" + Long.MAX_VALUE, description = "Last record number.")
        long to;
        @Option(names = "--vm", description = "Only this VM's records.")
        Long vm;
        @Option(names = "--type", description = "Only records of this type (e.g. ACTIVATED).")
        String type;
        @Mixin
        final Mixins.JsonOutput json = new Mixins.JsonOutput();

        @Override
        public void run()
        {
            Flags.atLeast("--from", from, 0, "");
            Flags.atLeast("--to", to, from, " (--from)");
            if (vm != null)
            {
                Flags.atLeast("--vm", vm, 0, "");
            }
            final RecordType only;
            try
            {
                only = type == null ? null : RecordType.valueOf(type.toUpperCase(Locale.ROOT));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("--type '" + type + "': expected one of " + java.util.Arrays.toString(
                    RecordType.values()));
            }
            final PrintWriter out = journal.out();
            try (JournalSet set = JournalSet.open(journal.dirs);
                JsonRecords records = json.wanted() ? new JsonRecords(out) : null) // closing it flushes its lines to out
            {
                final JournalSet.Handler print = records != null ? records : (seq, host, index, r) ->
                {
                    out.println(line(seq, host, index, r));
                    return true;
                };
                set.forEach(new RecordFilter(from, to, vm == null ? RecordFilter.ANY_VM : vm, only, print));
            }
            finally
            {
                out.flush(); // what was read before a damaged record, then its one line on stderr
            }
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
        description = "The placement (every host's VMs and load) at a record number or time, rebuilt from all journals.")
    static final class Replay implements Runnable
    {
        /** An offset: digits, an optional fraction, then ms or s; no sign, so "+-5s" or "+NaNs" are refused. */
        private static final java.util.regex.Pattern OFFSET = java.util.regex.Pattern.compile("\\+(\\d+(?:\\.\\d+)?)(ms|s)");

        @Mixin
        final Journals journal = new Journals();
        @Option(names = "--at", description = "A record number, a time (ISO-8601, e.g. 2026-11-25T14:00:01Z), or an " +
            "offset from the first record (+500ms, +3s). Default: the end.")
        String at;

        @Override
        public void run()
        {
            final History h = history(journal.dirs, at());
            final PrintWriter out = journal.out();
            out.printf(Locale.ROOT, "at record %d (%s):%n", h.lastSeq(), h.lastSeq() < 0 ? "before any" : time(h.lastNs()));
            final Map<Integer, List<Long>> byHost = new TreeMap<>();
            final Map<Integer, Double> loads = h.loads();
            loads.keySet().forEach(host -> byHost.put(host, new ArrayList<>()));
            h.owners().forEach((vm, host) -> byHost.computeIfAbsent(host, x -> new ArrayList<>()).add(vm));
            for (final Map.Entry<Integer, List<Long>> e : byHost.entrySet())
            {
                final Double load = loads.get(e.getKey());
                out.printf(Locale.ROOT, "host %d: load %s, %d vms %s%n", e.getKey(),
                    load == null ? "-" : String.format(Locale.ROOT, "%.3f", load), e.getValue().size(), e.getValue());
            }
            for (final History.Migration m : h.migrations())
            {
                if (m.open())
                {
                    out.printf(Locale.ROOT, "in flight: migration %s of vm %d, host %d -> %d%s%n", History.hex(m.id), m.vmId, m.source, m.target, m.committed() ? " (activated at the target)" : "");
                }
            }
            out.flush();
        }

        /** @return a history that stops where --at says, read in the same single pass. */
        private History at()
        {
            if (at == null)
            {
                return new History();
            }
            final String problem = "--at '" + at + "': expected a record number, an ISO-8601 time (e.g. " +
                "2026-11-25T14:00:01Z) or an offset from the first record, +N ms or +N s";
            final java.util.regex.Matcher offset = OFFSET.matcher(at);
            try
            {
                if (at.matches("\\d+"))
                {
                    return new History(Long.parseLong(at));
                }
                if (offset.matches())
                {
                    final double nanos = Double.parseDouble(offset.group(1)) * ("ms".equals(offset.group(2)) ? 1e6 : 1e9);
                    if (nanos >= Long.MAX_VALUE)
                    {
                        throw new IllegalArgumentException(problem + " (that offset is beyond any journal)");
                    }
                    return History.untilOffset((long)nanos);
                }
                final Instant instant = Instant.parse(at);
                return History.untilTime(instant.getEpochSecond() * 1_000_000_000L + instant.getNano());
            }
            catch (final NumberFormatException | java.time.format.DateTimeParseException | ArithmeticException ex)
            {
                // a record number or time past what a long holds, or a malformed time
                throw new IllegalArgumentException(problem);
            }
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check the ownership invariant over the whole history; exit 0 only if it holds and both " +
            "sides of every handoff were given.")
    static final class Verify implements java.util.concurrent.Callable<Integer>
    {
        /** Findings printed one per line; past these, one line counts the rest. */
        static final int FINDINGS_SHOWN = 20;

        @Mixin
        final Journals journal = new Journals();

        @Override
        public Integer call()
        {
            final History h = history(journal.dirs);
            final PrintWriter out = journal.out();
            final List<String> findings = h.findings();
            findings.stream().limit(FINDINGS_SHOWN).forEach(out::println);
            if (findings.size() > FINDINGS_SHOWN)
            {
                out.printf(Locale.ROOT, "… and %d more handoffs with a host whose journal was not given%n",
                    findings.size() - FINDINGS_SHOWN);
            }
            if (h.violation() != null)
            {
                out.println("violation at " + h.violation());
            }
            out.println(h.summary());
            out.flush();
            return h.violation() == null && findings.isEmpty() ? 0 : 1;
        }
    }

    @Command(name = "timeline", mixinStandardHelpOptions = true, description = "One VM's life: admission, every migration with its steps, balloon requests and results.")
    static final class Timeline implements Runnable
    {
        @Mixin
        final Journals journal = new Journals();
        @Option(names = "--vm", required = true, description = "The VM.")
        long vm;

        @Override
        public void run()
        {
            Flags.atLeast("--vm", vm, 0, "");
            final PrintWriter out = journal.out();
            final long[] count = { 0 };
            final Map<Long, Long> intents = new java.util.HashMap<>(); // migration: its intent's time
            final long[] latest = { 0 };
            final io.vmsched.journal.BalloonRecord balloon = new io.vmsched.journal.BalloonRecord();
            try (JournalSet set = JournalSet.open(journal.dirs))
            {
                set.forEach((seq, host, index, r) ->
                {
                    if (r.vmId() != vm || r.type() == RecordType.DECISION)
                    {
                        return true;
                    }
                    count[0]++;
                    final Long start = intents.get(r.migrationId());
                    if (r.type() == RecordType.MIGRATION_INTENT)
                    {
                        intents.put(r.migrationId(), r.timestampNs());
                        latest[0] = r.migrationId();
                        out.printf(Locale.ROOT, "%s  migration %s: host %d -> host %d%n", time(r.timestampNs()),
                            History.hex(r.migrationId()), host, r.peer());
                    }
                    else if (r.migrationId() != 0 && start != null)
                    {
                        // since its own intent (other hosts' clocks may differ); named when another handoff came between
                        out.printf(Locale.ROOT, "%s    %-10s at host %d  %+,d us%s%s%n", time(r.timestampNs()), r.type(), host,
                            (r.timestampNs() - start) / 1000, r.migrationId() == latest[0] ? "" : " (migration " +
                            History.hex(r.migrationId()) + ")", r.type() == RecordType.ABORTED ? ": " + r.text() : "");
                    }
                    else if (r.type() == RecordType.BALLOON_REQUESTED || r.type() == RecordType.BALLOON_RESULT)
                    {
                        out.printf(Locale.ROOT, "%s  %s at host %d: %s%n", time(r.timestampNs()), r.type(), host,
                            balloon.wrap(r).describe());
                    }
                    else
                    {
                        out.printf(Locale.ROOT, "%s  %s at host %d%n", time(r.timestampNs()), r.type(), host);
                    }
                    return true;
                });
            }
            if (count[0] == 0)
            {
                throw new IllegalArgumentException("vm " + vm + " does not appear in " + journal.names());
            }
            out.flush();
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Migrations, aborts, handoff latency percentiles per step, balance decisions and balloon results by outcome.")
    static final class Stats implements Runnable
    {
        @Mixin
        final Journals journal = new Journals();

        @Override
        public void run()
        {
            final History h = history(journal.dirs);
            final PrintWriter out = journal.out();
            out.printf(Locale.ROOT, "%d records over %.1f s, %d vms; migrations: %d committed, %d aborted, %d in doubt, " +
                "%d resolved by recovery%n", h.records(), (h.lastNs() - h.firstNs()) / 1e9, h.vmsAdmitted(),
                h.migrationsCommitted(), h.migrationsAborted(), h.inDoubt(), h.resolvedByRecovery());
            out.printf("%-22s %8s %9s %9s %9s %9s%n", "handoff step (us)", "count", "p50", "p90", "p99", "max");
            for (final Map.Entry<String, Histogram> e : h.stepLatencies().entrySet())
            {
                final Histogram x = e.getValue();
                out.printf(Locale.ROOT, "%-22s %8d %9d %9d %9d %9d%n", e.getKey(), x.getTotalCount(),
                    x.getValueAtPercentile(50), x.getValueAtPercentile(90), x.getValueAtPercentile(99), x.getMaxValue());
            }
            out.println("aborts by reason:");
            h.abortReasons().forEach((reason, n) -> out.printf("  %6d  %s%n", n, reason));
            out.println("balance decisions by outcome:");
            h.decisions().forEach((outcome, n) -> out.printf("  %6d  %s%n", n, outcome));
            out.println("balloon requests and results by outcome:");
            h.balloons().forEach((outcome, n) -> out.printf("  %6d  %s%n", n, outcome));
            out.flush();
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
        description = "One self-contained HTML page: loads, CV and migrations over time, and the stats.")
    static final class ReportCommand implements Runnable
    {
        @Mixin
        final Journals journal = new Journals();
        @Option(names = "--out", required = true, description = "The HTML file to write.")
        Path outFile;

        @Override
        public void run()
        {
            // before the journals are read, which can take long
            final Path parent = outFile.toAbsolutePath().getParent();
            if (Files.isDirectory(outFile))
            {
                throw new IllegalArgumentException("--out " + outFile + " is a directory: give the HTML file's name");
            }
            if (parent != null && !Files.isDirectory(parent))
            {
                throw new IllegalArgumentException("--out " + outFile + ": no directory " + parent + " to write it in");
            }
            final History h = history(journal.dirs);
            try
            {
                Files.writeString(outFile, Report.html(h, String.join(" ", journal.dirs.stream().map(d -> d.toAbsolutePath().toString()).toList())), StandardCharsets.UTF_8);
            }
            catch (final IOException ex)
            {
                throw new IllegalArgumentException("--out " + outFile + ": cannot write it (" + VmschedCommand.reason(ex) + ")");
            }
            journal.out().println("report written to " + outFile.toAbsolutePath() + " (" + h.summary() + ")");
        }
    }

    @Command(name = "tail", mixinStandardHelpOptions = true, description = "Follow live journals, printing records as they are written.")
    static final class TailCommand implements Runnable
    {
        @Mixin
        final Journals journal = new Journals();
        @Option(names = "--count", defaultValue = "0", description = "Stop after this many records (0: never).")
        long count;

        @Override
        public void run()
        {
            Flags.atLeast("--count", count, 0, " (0: never stop)");
            final PrintWriter out = journal.out();
            try (Tail tail = Tail.open(journal.dirs))
            {
                tail.follow(new Tail.Handler()
                {
                    @Override
                    public void onRecord(final int host, final long index, final JournalRecord record)
                    {
                        out.printf(Locale.ROOT, "%s host %d idx %d %s%n", time(record.timestampNs()), host, index, record);
                    }

                    @Override
                    public void onIdle()
                    {
                        out.flush(); // caught up: show what came before waiting for more
                    }
                }, count);
            }
            finally
            {
                out.flush();
            }
        }
    }
}
