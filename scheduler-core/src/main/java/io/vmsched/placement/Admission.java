package io.vmsched.placement;

/**
 * Where a new VM goes, by the rules: among the hosts with room, one where no hard rule of the VM
 * breaks; of those, one where no soft rule breaks either if there is one; then the least loaded, then
 * the fewest VMs. The one placement of admission (and evacuation), for the runtime and the simulator.
 * <p>
 * VM-VM rules are judged once per choice, not once per host: the hosts each such rule's other VMs run on
 * are marked first ({@code O(members)}), so a choice costs {@code O(members + hosts x rules)}.
 * <p>
 * <b>Note:</b> Not threadsafe: one per caller, which it keeps scratch for; allocates nothing once its
 * scratch has grown to the cluster's size, unless it refuses.
 */
public final class Admission
{
    /** The hosts, as an admission sees them. */
    public interface Hosts
    {
        /** @return hosts (ids 0 .. this - 1). */
        int hosts();

        /**
         * @param host a host.
         * @return null if it has room for one more VM (its schedule, its limits), else the limit in the way;
         *         {@link #NOT_HERE} if the host is not a choice at all (down, another process's).
         */
        String room(int host);

        /**
         * @param host a host with room.
         * @return its load.
         */
        double load(int host);

        /**
         * @param host a host with room.
         * @return its VMs.
         */
        int vms(int host);
    }

    /** What {@link Hosts#room} answers for a host that is no choice (not a limit: no message names it). */
    public static final String NOT_HERE = "not here";

    // per VM-VM rule of the VM (up to its count), the hosts its other VMs run on, one bit each
    private long[][] marked = new long[4][];
    private boolean[] anyPlaced = new boolean[4];

    /**
     * @param rules  the rules in force.
     * @param own    the VM's rules ({@link Constraints#rulesOfService}, {@link Constraints#rulesOf}).
     * @param vmId   the VM.
     * @param where  where the other VMs are.
     * @param hosts  the hosts.
     * @return the host.
     * @throws IllegalArgumentException naming the hard rule that holds on no host with room.
     * @throws IllegalStateException    naming the limit in the way when no host has room.
     */
    public int choose(final Constraints rules, final int[] own, final long vmId, final Constraints.Locator where,
        final Hosts hosts)
    {
        final int n = hosts.hosts();
        mark(rules, own, vmId, where, n);
        int best = -1;
        boolean bestSoft = false;
        double bestLoad = 0;
        int bestCount = 0;
        int blockingRule = -1;
        String blockingLimit = null;
        for (int h = 0; h < n; h++)
        {
            final String room = rules.closed(h) ? NOT_HERE : hosts.room(h); // a host draining, or removed, takes none
            if (room != null)
            {
                if (room != NOT_HERE)
                {
                    blockingLimit = room;
                }
                continue;
            }
            final int broken = own.length == 0 ? -1 : breaks(rules, own, h, false);
            if (broken >= 0)
            {
                blockingRule = broken;
                continue;
            }
            final boolean soft = own.length == 0 || breaks(rules, own, h, true) < 0;
            final double load = hosts.load(h);
            final int count = hosts.vms(h);
            if (best < 0 || soft && !bestSoft || soft == bestSoft && (load < bestLoad || load == bestLoad && count < bestCount))
            {
                best = h;
                bestSoft = soft;
                bestLoad = load;
                bestCount = count;
            }
        }
        if (best >= 0)
        {
            return best;
        }
        if (blockingRule >= 0)
        {
            throw new IllegalArgumentException("vm " + vmId + " not admitted: " + rules.rule(blockingRule).describe() +
                " holds on no host with room");
        }
        throw new IllegalStateException("vm " + vmId + " not admitted: every host is full" +
            (blockingLimit == null ? "" : " (" + blockingLimit + ")"));
    }

    /** Mark, for each VM-VM rule of the VM, the hosts its other VMs run on. */
    private void mark(final Constraints rules, final int[] own, final long vmId, final Constraints.Locator where,
        final int hosts)
    {
        if (marked.length < own.length)
        {
            marked = new long[own.length][];
            anyPlaced = new boolean[own.length];
        }
        final int words = (hosts + 63) >>> 6;
        for (int i = 0; i < own.length; i++)
        {
            final int r = own[i];
            if (rules.rule(r).label() != null)
            {
                continue;
            }
            if (marked[i] == null || marked[i].length < words)
            {
                marked[i] = new long[Math.max(words, 16)];
            }
            final long[] bits = marked[i];
            java.util.Arrays.fill(bits, 0, words, 0L);
            boolean placed = false;
            for (final long other : rules.members(r))
            {
                final int host = other == vmId ? -1 : where.hostOf(other);
                if (host >= 0 && host < hosts)
                {
                    bits[host >>> 6] |= 1L << host;
                    placed = true;
                }
            }
            anyPlaced[i] = placed;
        }
    }

    /** {@link Constraints#breaks} for a host, from the marks. */
    private int breaks(final Constraints rules, final int[] own, final int host, final boolean soft)
    {
        for (int i = 0; i < own.length; i++)
        {
            final int r = own[i];
            final Rule rule = rules.rule(r);
            if (!rule.hard() && !soft)
            {
                return -1; // hard ones first
            }
            final boolean broken;
            switch (rule.kind())
            {
                case ANTI_AFFINITY -> broken = (marked[i][host >>> 6] & (1L << host)) != 0;
                case AFFINITY -> broken = anyPlaced[i] && (marked[i][host >>> 6] & (1L << host)) == 0;
                default -> broken = rules.breaksLabel(r, host);
            }
            if (broken)
            {
                return r;
            }
        }
        return -1;
    }
}
