package io.vmsched.cluster;

import io.vmsched.placement.Constraints;
import io.vmsched.placement.Placement;
import io.vmsched.placement.Service;
import io.vmsched.placement.ServiceJudge;
import io.vmsched.placement.ServiceHealth;
import io.vmsched.placement.ServiceStatus;
import io.vmsched.placement.StatusReport;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Watches the services (REL claims 7, 12): computes each one's status from its VMs (their entries in
 * the hosts' schedules, read racily like {@code vmsched stat} does) and the rules over them, and tells
 * the operator of every change: journaled first (SERVICE_STATUS, in the placement journal), then the
 * listener.
 * <p>
 * <b>Note:</b> Threadsafe: an evaluation holds this object's lock (the watch thread and
 * {@link Cluster#status()} callers take turns).
 */
final class ServiceWatch
{
    private final ClusterView view;
    private final HostRuntime[] hosts;
    private final java.util.function.ObjIntConsumer<String> journal;
    private final long migratingBoundNs;
    private final Map<String, ServiceStatus> current = new HashMap<>();
    private final Map<Long, Long> migratingSince = new HashMap<>();
    private final Map<Long, long[]> lastCpu = new HashMap<>(); // vm -> {cpu ns, at ns}

    /**
     * @param journal records a SERVICE_STATUS (the text, the status code), or null.
     */
    ServiceWatch(final ClusterView view, final HostRuntime[] hosts, final java.util.function.ObjIntConsumer<String> journal,
        final long migratingBoundNs)
    {
        this.view = view;
        this.hosts = hosts;
        this.journal = journal;
        this.migratingBoundNs = migratingBoundNs;
    }

    /**
     * Recovery: a service's last status as journaled (a restart reports only what changed since).
     *
     * @param service the service.
     * @param health  its status.
     * @param cause   the cause journaled.
     * @param epochMs when.
     */
    synchronized void recovered(final String service, final ServiceHealth health, final String cause, final long epochMs)
    {
        current.put(service, new ServiceStatus(service, health, null, cause, epochMs));
    }

    private record Seen(int host, int state, long cpuNanos, boolean external)
    {
    }

    /**
     * Compute every service's status, report the changes, and return the whole picture.
     *
     * @return the report.
     */
    synchronized StatusReport evaluate()
    {
        final Placement placement = view.placement;
        final List<Service> services = placement.services();
        final Constraints rules = placement.constraints();
        final Map<Long, Seen> seen = scan();
        final Constraints.Locator where = vm ->
        {
            final Seen s = seen.get(vm);
            return s == null ? -1 : s.host;
        };
        final long now = System.nanoTime();
        final long nowMs = System.currentTimeMillis();
        final List<List<Long>> breakingOf = new ArrayList<>();
        final List<StatusReport.RuleReport> ruleReports = ServiceJudge.rules(rules, where, breakingOf);
        final List<StatusReport.ServiceReport> reports = new ArrayList<>();
        final java.util.Set<String> defined = new java.util.HashSet<>();
        for (final Service service : services)
        {
            defined.add(service.name());
            final long[] members = placement.members(service.name());
            final List<StatusReport.VmReport> vms = new ArrayList<>();
            int running = 0;
            String suspended = null;
            String slow = null;
            for (final long vm : members)
            {
                final Seen s = seen.get(vm);
                final String state = s == null ? "absent" : stateWord(s);
                running += "running".equals(state) || "migrating".equals(state) ? 1 : 0;
                if ("suspended".equals(state) && suspended == null)
                {
                    suspended = "vm " + vm + " suspended on host " + s.host;
                }
                if ("migrating".equals(state))
                {
                    final long since = migratingSince.computeIfAbsent(vm, k -> now);
                    if (now - since > migratingBoundNs && slow == null)
                    {
                        slow = "vm " + vm + " migrating for " + (now - since) / 1_000_000 + " ms";
                    }
                }
                else
                {
                    migratingSince.remove(vm);
                }
                vms.add(new StatusReport.VmReport(vm, s == null ? -1 : s.host, state, cpu(vm, s, now)));
            }
            final ServiceJudge.Verdict verdict = ServiceJudge.judge(service, running, rules, breakingOf, members,
                suspended != null ? suspended : slow);
            final ServiceHealth health = verdict.health();
            final String cause = verdict.cause();
            final ServiceStatus before = current.get(service.name());
            ServiceStatus status = before;
            if (before == null || before.health() != health)
            {
                status = new ServiceStatus(service.name(), health, before == null ? null : before.health(), cause, nowMs);
                current.put(service.name(), status);
                report(status);
            }
            reports.add(new StatusReport.ServiceReport(service, health, cause, status.epochMs(), List.copyOf(vms)));
        }
        current.keySet().retainAll(defined);
        return new StatusReport(List.copyOf(reports), List.copyOf(ruleReports));
    }

    /** Journal a change, then JFR, then the listener (whose mistakes never stop the caller). */
    void report(final ServiceStatus status)
    {
        if (journal != null)
        {
            journal.accept(status.service() + " " + status.cause(), status.health().ordinal());
        }
        io.vmsched.jfr.FlightEvents.serviceStatus(status.service(), status.health().word(),
            status.previous() == null ? null : status.previous().word(), status.cause());
        try
        {
            view.listener.onServiceStatus(status);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(-1, ex); // a listener's mistake never stops the watch
        }
    }

    private double cpu(final long vm, final Seen s, final long now)
    {
        if (s == null || s.external)
        {
            lastCpu.remove(vm);
            return Double.NaN;
        }
        final long[] last = lastCpu.get(vm);
        lastCpu.put(vm, new long[]{s.cpuNanos, now});
        if (last == null || now <= last[1] || s.cpuNanos < last[0])
        {
            return Double.NaN;
        }
        return (s.cpuNanos - last[0]) / (double)(now - last[1]);
    }

    private static String stateWord(final Seen s)
    {
        if (s.external)
        {
            return "running"; // a process: its host does not dispatch it
        }
        return switch (s.state)
        {
            case EntryState.RUNNABLE, EntryState.RUNNING -> "running";
            case EntryState.SUSPENDED -> "suspended";
            case EntryState.MIGRATING_OUT, EntryState.MIGRATING_IN -> "migrating";
            default -> "absent";
        };
    }

    /** Every entry of every host here, the owner's where a VM is on two (mid-migration). */
    private Map<Long, Seen> scan()
    {
        final Map<Long, Seen> seen = new HashMap<>();
        for (final HostRuntime host : hosts)
        {
            if (host == null)
            {
                continue;
            }
            final Schedule schedule = host.schedule();
            for (int slot = 0, n = schedule.capacity(); slot < n; slot++)
            {
                final int state = schedule.stateOfSlot(slot);
                if (state == EntryState.FREE || state == EntryState.DELETED)
                {
                    continue;
                }
                final long vm = schedule.vmId(slot);
                final Seen s = new Seen(host.hostId(), state, schedule.cpuNanos(slot),
                    schedule.attachment(slot) instanceof ExternalVm);
                final Seen other = seen.get(vm);
                final Integer owner = view.owners.get(vm);
                if (other == null || owner != null && owner == host.hostId())
                {
                    seen.put(vm, s);
                }
            }
        }
        return seen;
    }
}
