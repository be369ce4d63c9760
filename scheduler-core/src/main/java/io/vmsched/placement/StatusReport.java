package io.vmsched.placement;

import java.util.List;

/**
 * What {@code vmsched status} shows: each service with its status, its VMs and where they run, and
 * each rule with whether it holds and which VMs break it. A snapshot: immutable.
 *
 * @param services the services, in the order they were defined.
 * @param rules    the rules, in the order they were added.
 * @param drains   the hosts being drained, in id order.
 */
public record StatusReport(List<ServiceReport> services, List<RuleReport> rules, List<DrainReport> drains)
{
    /**
     * A report with no drains.
     *
     * @param services the services.
     * @param rules    the rules.
     */
    public StatusReport(final List<ServiceReport> services, final List<RuleReport> rules)
    {
        this(services, rules, List.of());
    }

    /** @param more the hosts being drained. @return this report with them. */
    public StatusReport withDrains(final List<DrainReport> more)
    {
        return new StatusReport(services, rules, List.copyOf(more));
    }

    /**
     * A host being drained.
     *
     * @param host    the host.
     * @param vms     VMs still on it (0: drained; it may be removed).
     * @param blocked the VMs that can go nowhere now, each with why (a rule or a limit, and where).
     */
    public record DrainReport(int host, int vms, java.util.Map<Long, String> blocked)
    {
        /** @return the report in one line. */
        public String toText()
        {
            final StringBuilder sb = new StringBuilder("host ").append(host).append(vms == 0 ? " drained: empty" :
                " draining: " + vms + " VM" + (vms == 1 ? "" : "s") + " left");
            blocked.forEach((vm, why) -> sb.append("; vm ").append(vm).append(" can go nowhere: ").append(why));
            return sb.toString();
        }
    }

    /**
     * One VM of a service.
     *
     * @param vmId     the VM.
     * @param host     the host it runs on, -1 if it is in no host (removed, or not admitted yet).
     * @param state    running, suspended, migrating or absent.
     * @param cpuCores reference cores it used over the last watch period (NaN where unknown).
     */
    public record VmReport(long vmId, int host, String state, double cpuCores)
    {
    }

    /**
     * One service.
     *
     * @param service the definition.
     * @param health  its status.
     * @param cause   why, in words.
     * @param since   when it took this status, milliseconds since the epoch.
     * @param vms     its VMs.
     */
    public record ServiceReport(Service service, ServiceHealth health, String cause, long since, List<VmReport> vms)
    {
    }

    /**
     * One rule.
     *
     * @param rule     the rule.
     * @param holds    whether it holds now.
     * @param breaking VMs that break it (for anti-affinity, every VM sharing a host with another of the rule's).
     */
    public record RuleReport(Rule rule, boolean holds, List<Long> breaking)
    {
    }

    /** @return the report as a terminal shows it. */
    public String toText()
    {
        final StringBuilder sb = new StringBuilder();
        if (services.isEmpty())
        {
            sb.append("no services\n");
        }
        for (final ServiceReport s : services)
        {
            sb.append(String.format(java.util.Locale.ROOT, "service %-16s %-8s %d/%d VMs (min %d)  %s%n", s.service().name(),
                s.health().word(), running(s), s.service().desiredSize(), s.service().minRunning(), s.cause()));
            for (final VmReport vm : s.vms())
            {
                sb.append(String.format(java.util.Locale.ROOT, "    vm %-8d %-10s host %-4s cpu %s%n", vm.vmId(), vm.state(),
                    vm.host() < 0 ? "-" : Integer.toString(vm.host()),
                    Double.isNaN(vm.cpuCores()) ? "-" : String.format(java.util.Locale.ROOT, "%.2f", vm.cpuCores())));
            }
        }
        for (final RuleReport r : rules)
        {
            sb.append(r.holds() ? "holds   " : "BROKEN  ").append(r.rule().describe());
            if (!r.holds())
            {
                sb.append(" by VMs ").append(r.breaking());
            }
            sb.append('\n');
        }
        for (final DrainReport d : drains)
        {
            sb.append(d.toText()).append('\n');
        }
        return sb.toString();
    }

    /**
     * @param s a service.
     * @return its VMs running (or migrating).
     */
    public static int running(final ServiceReport s)
    {
        int n = 0;
        for (final VmReport vm : s.vms())
        {
            n += "running".equals(vm.state()) || "migrating".equals(vm.state()) ? 1 : 0;
        }
        return n;
    }
}
