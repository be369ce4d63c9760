package io.vmsched.cluster;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.Placement;
import io.vmsched.placement.RulesText;
import io.vmsched.placement.ServiceHealth;
import io.vmsched.placement.StatusReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A cluster's services and rules at work: their journal ({@code <data>/placement/}, recovered at start),
 * the admission placement that honours them, the check of an explicit migration, and the service watch
 * on its own thread.
 * <p>
 * <b>Note:</b> Threadsafe: changes and rule-bound admissions are serialised on this object.
 */
final class ClusterPlacement implements AutoCloseable
{
    /** Directory of the placement journal, under the data directory. */
    static final String DIR = "placement";
    /** The host id the placement journal's records carry: none (they are the cluster's). */
    static final int NO_HOST = -1;

    private final ClusterView view;
    private final HostRuntime[] hosts;
    private final Path dir;
    private ChronicleJournal journal;
    private final ServiceWatch watch;
    private final PlacementAuthority authority;
    private final long watchPeriodNs;
    private volatile boolean running;
    private Thread thread;

    private final Constraints.Locator owners = this::ownerOf;
    private final io.vmsched.placement.Admission admission = new io.vmsched.placement.Admission(); // callers hold this object's lock

    ClusterPlacement(final ClusterConfig config, final ClusterView view, final HostRuntime[] hosts)
    {
        this.view = view;
        this.hosts = hosts;
        this.watchPeriodNs = config.watchPeriodNs;
        for (int h = 0; h < view.capacity; h++)
        {
            view.limits[h] = config.hostConfig(h).limits;
        }
        for (int h = 0; h < config.hosts; h++)
        {
            view.placement.hostLabels(h, config.hostConfig(h).labels);
        }
        this.dir = config.dataDir.resolve(DIR);
        this.authority = config.placementAuthority;
        this.watch = new ServiceWatch(view, hosts, (text, code) -> record(RecordType.SERVICE_STATUS, code, text),
            config.migratingBoundNs);
        if (authority == null && Files.isDirectory(dir))
        {
            // read only: a start refused later (a host's journal damaged) leaves nothing here changed
            try (ChronicleJournal existing = ChronicleJournal.openReadOnly(dir, NO_HOST))
            {
                recover(existing);
            }
        }
    }

    /** Open the journal for writing, once every check of the start has passed. */
    void open()
    {
        if (authority != null)
        {
            // the journal keeps the changes of status the authority tells (told); the placement is the authority's
            this.journal = ChronicleJournal.open(dir, NO_HOST);
            // across machines: the authority checks each change against the whole cluster (the VMs named
            // may run on other nodes, so none is refused here for being unknown), then the copy applies it
            view.placement.wire(vm -> true, statement -> authority.submit(List.of(statement)));
            return;
        }
        this.journal = ChronicleJournal.open(dir, NO_HOST);
        view.placement.wire(vm -> view.owners.containsKey(vm),
            statement -> record(RecordType.PLACEMENT, 0, statement));
    }

    /** Append to the placement journal from whichever thread changes or watches (taking turns: Chronicle's appender is single-threaded). */
    private synchronized void record(final RecordType type, final int code, final String text)
    {
        journal.handOver();
        journal.appendText(type, 0, 0, NO_HOST, 0, 0, 0, code, text);
    }

    private void recover(final ChronicleJournal journal)
    {
        journal.replay((index, record) ->
        {
            if (record.type() == RecordType.PLACEMENT)
            {
                try
                {
                    view.placement.replay(record.text());
                }
                catch (final IllegalArgumentException ex)
                {
                    throw new IllegalArgumentException(journal.dir() + " record " + index + ": " + ex.getMessage());
                }
            }
            else if (record.type() == RecordType.SERVICE_STATUS)
            {
                final String text = record.text();
                final int space = text.indexOf(' ');
                final ServiceHealth[] all = ServiceHealth.values();
                if (space > 0 && record.code() >= 0 && record.code() < all.length)
                {
                    watch.recovered(text.substring(0, space), all[record.code()], text.substring(space + 1),
                        record.timestampNs() / 1_000_000);
                }
            }
        });
    }

    /** Start the service watch thread. */
    void start()
    {
        if (authority != null)
        {
            return; // the authority sees every node's VMs: the status is its to compute (status())
        }
        running = true;
        thread = new Thread(this::watchLoop, "vmsched-service-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void watchLoop()
    {
        while (running)
        {
            try
            {
                if (!view.placement.services().isEmpty())
                {
                    watch.evaluate();
                }
            }
            catch (final RuntimeException ex)
            {
                view.listener.onError(-1, ex);
            }
            LockSupport.parkNanos(watchPeriodNs);
        }
    }

    /** A host was added: its labels count from now on. */
    void hostAdded(final int host, final HostConfig config)
    {
        view.placement.hostLabels(host, config.labels);
    }

    /**
     * Across machines: a change of a service's status that the authority judged, reported as the watch reports
     * its own (journaled, JFR, the listener).
     *
     * @param status the change.
     */
    void told(final io.vmsched.placement.ServiceStatus status)
    {
        watch.report(status);
    }

    StatusReport status()
    {
        return authority != null ? authority.status() : watch.evaluate();
    }

    /**
     * Across machines: the authority's placement, as read from it, replaces this node's copy.
     *
     * @param statements the authority's statements.
     */
    void adopt(final List<String> statements)
    {
        view.placement.replaceWith(statements);
    }

    /**
     * Across machines, a change is the authority's to check (against the whole cluster: a node's copy may
     * lag behind, and knows neither every VM nor every host) and to apply; the copy then follows.
     *
     * @param statement the change.
     * @return false if this cluster has no authority (the caller makes the checked change itself).
     * @throws IllegalArgumentException if the authority refused it.
     */
    boolean change(final String statement)
    {
        if (authority == null)
        {
            return false;
        }
        authority.submit(List.of(statement));
        view.placement.replay(statement);
        return true;
    }

    /**
     * Across machines: make sure this node's copy knows a service defined at another node a moment ago
     * (read from the authority when it does not).
     *
     * @param service a service named by a caller here.
     */
    void know(final String service)
    {
        if (authority != null && service != null && view.placement.definition(service) == null)
        {
            adopt(authority.statements());
        }
    }

    private int ownerOf(final long vmId)
    {
        return view.hostOf(vmId);
    }

    /** @return the owner map as a locator. */
    Constraints.Locator owners()
    {
        return owners;
    }

    /**
     * Choose the host for a VM about to be admitted ({@link io.vmsched.placement.Admission}) among this
     * JVM's hosts, counting admissions still queued to each.
     *
     * @return the host.
     * @throws IllegalArgumentException naming the rule no host satisfies.
     * @throws IllegalStateException    if no host has room.
     */
    synchronized int choose(final ClusterConfig config, final long vmId, final int[] rules)
    {
        return admission.choose(view.placement.constraints(), rules, vmId, owners,
            new io.vmsched.placement.Admission.Hosts()
            {
                @Override
                public int hosts()
                {
                    return view.hosts;
                }

                @Override
                public String room(final int host)
                {
                    if (hosts[host] == null)
                    {
                        return io.vmsched.placement.Admission.NOT_HERE; // another node's: admit there
                    }
                    final int count = vms(host);
                    if (count >= config.hostConfig(host).scheduleCapacity)
                    {
                        return "schedule full";
                    }
                    final io.vmsched.placement.HostLimits limits = view.limits[host];
                    if (limits.maxVms() > 0 && count >= limits.maxVms())
                    {
                        return io.vmsched.placement.HostLimits.VMS;
                    }
                    final String limit = view.refusedByLimits(host, 0, 0, 0);
                    return io.vmsched.placement.HostLimits.VMS.equals(limit) ? null : limit;
                }

                @Override
                public double load(final int host)
                {
                    return view.load(host);
                }

                @Override
                public int vms(final int host)
                {
                    return hosts[host].vmCount() + view.admitsQueued.get(host);
                }
            });
    }

    /**
     * Check an explicit migration against the hard rules.
     *
     * @throws IllegalArgumentException naming the rule it would break.
     */
    void checkMigration(final long vmId, final int target)
    {
        final Constraints constraints = view.placement.constraints();
        final String closed = constraints.closedReason(target);
        if (closed != null)
        {
            throw new IllegalArgumentException("vm " + vmId + " may not move to host " + target + ": it is " + closed);
        }
        final int broken = constraints.breaks(constraints.rulesOf(vmId), vmId, target, owners, false, false);
        if (broken >= 0)
        {
            throw new IllegalArgumentException("vm " + vmId + " may not move to host " + target + ": " +
                constraints.rule(broken).describe() + " forbids it");
        }
    }

    /**
     * @return the VMs that break the rule now (empty if it holds).
     */
    List<Long> breaking(final String ruleName)
    {
        final Constraints constraints = view.placement.constraints();
        for (int r = 0; r < constraints.ruleCount(); r++)
        {
            if (constraints.rule(r).name().equals(ruleName))
            {
                return io.vmsched.placement.ServiceJudge.breaking(constraints, r, owners);
            }
        }
        return List.of();
    }

    /**
     * Apply a constraints file's statements: all are checked first, on a copy, so a mistake in any
     * applies none.
     */
    void apply(final RulesText.Statements statements)
    {
        if (!statements.hostLabels.isEmpty())
        {
            final String label = statements.hostLabels.keySet().iterator().next();
            throw new IllegalArgumentException(statements.at("label " + label) + "a cluster's hosts carry the labels " +
                "of their config (HostConfig.labels); label statements are for vmsched simulate");
        }
        if (authority != null)
        {
            // one change at the authority, checked there against the whole cluster; then the copy follows
            final List<String> texts = Placement.textOf(statements);
            authority.submit(texts);
            for (final String text : texts)
            {
                view.placement.replay(text);
            }
            return;
        }
        final Placement trial = new Placement();
        final int hostCount = view.placement.hosts();
        for (int h = 0; h < hostCount; h++)
        {
            trial.hostLabels(h, view.placement.labelsOf(h));
        }
        for (final String statement : view.placement.statements())
        {
            trial.replay(statement);
        }
        trial.wire(vm -> view.owners.containsKey(vm), s -> { });
        trial.apply(statements);
        view.placement.apply(statements);
    }

    @Override
    public void close()
    {
        running = false;
        if (thread != null)
        {
            LockSupport.unpark(thread);
            try
            {
                thread.join(10_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this)
        {
            if (journal != null)
            {
                journal.handOver();
                journal.close();
            }
        }
    }

    /** @return the journal's directory. */
    Path dir()
    {
        return dir;
    }

    static boolean isPlacementRecord(final JournalRecord record)
    {
        return record.type() == RecordType.PLACEMENT || record.type() == RecordType.SERVICE_STATUS;
    }
}
