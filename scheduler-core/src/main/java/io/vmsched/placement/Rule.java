package io.vmsched.placement;

import java.util.Arrays;
import java.util.Objects;

/**
 * A placement rule, as oVirt affinity groups, VMware DRS rules and nova server groups have them: VM-VM
 * affinity or anti-affinity over a set of VMs or a service's VMs, or a VM-host rule over the hosts
 * carrying a label. Each is {@linkplain #hard() hard} (must: never broken by a placement vmsched makes,
 * refused when it cannot hold) or soft (should: kept where a host allows it, reported when broken).
 * <p>
 * Immutable. Its text form ({@link #toString()}, parsed by {@link RulesText}) is what the constraints
 * file, the CLI and the journal carry.
 */
public final class Rule
{
    /** What a rule asks. */
    public enum Kind
    {
        /** Its VMs run on one host. */
        AFFINITY("affinity"),
        /** No two of its VMs run on one host. */
        ANTI_AFFINITY("anti-affinity"),
        /** Its VMs run on hosts carrying the label. */
        ON_LABEL("on-label"),
        /** Its VMs run on hosts not carrying the label. */
        OFF_LABEL("off-label");

        private final String word;

        Kind(final String word)
        {
            this.word = word;
        }

        /** @return the kind as the text form writes it. */
        public String word()
        {
            return word;
        }

        /**
         * @param word a kind as written.
         * @return its kind, or null if none is written so.
         */
        public static Kind of(final String word)
        {
            for (final Kind kind : values())
            {
                if (kind.word.equals(word))
                {
                    return kind;
                }
            }
            return null;
        }
    }

    private final String name;
    private final Kind kind;
    private final boolean hard;
    private final long[] vms;
    private final String service;
    private final String label;

    private Rule(final String name, final Kind kind, final boolean hard, final long[] vms, final String service,
        final String label)
    {
        Names.check("rule", name);
        this.name = name;
        this.kind = Objects.requireNonNull(kind, "kind");
        this.hard = hard;
        this.vms = vms == null ? null : sortedUnique(vms);
        this.service = service;
        this.label = label;
        if ((vms == null) == (service == null))
        {
            throw new IllegalArgumentException("rule " + name + " must name either VMs or a service");
        }
        if (service != null)
        {
            Names.check("service", service);
        }
        if ((kind == Kind.ON_LABEL || kind == Kind.OFF_LABEL) != (label != null))
        {
            throw new IllegalArgumentException("rule " + name + ": a label is " +
                (label == null ? "required by " : "meaningless for ") + kind.word);
        }
        if (label != null)
        {
            Names.check("label", label);
        }
        if (vms != null && this.vms.length < (label == null ? 2 : 1))
        {
            throw new IllegalArgumentException("rule " + name + " names " + this.vms.length + " VM" +
                (this.vms.length == 1 ? "" : "s") + ": " + kind.word + " needs " + (label == null ? "at least 2" : "at least 1"));
        }
    }

    /**
     * @param name its name, unique among the cluster's rules.
     * @param hard must (true) or should (false).
     * @param vms  the VMs kept together.
     * @return VM-VM affinity over the VMs.
     */
    public static Rule affinity(final String name, final boolean hard, final long... vms)
    {
        return new Rule(name, Kind.AFFINITY, hard, vms, null, null);
    }

    /**
     * @param name its name, unique among the cluster's rules.
     * @param hard must (true) or should (false).
     * @param vms  the VMs kept apart.
     * @return VM-VM anti-affinity over the VMs.
     */
    public static Rule antiAffinity(final String name, final boolean hard, final long... vms)
    {
        return new Rule(name, Kind.ANTI_AFFINITY, hard, vms, null, null);
    }

    /**
     * @param name    its name.
     * @param kind    what it asks.
     * @param hard    must (true) or should (false).
     * @param service the service whose VMs (now and later) it covers.
     * @param label   the host label, for {@link Kind#ON_LABEL} and {@link Kind#OFF_LABEL}; null otherwise.
     * @return the rule over the service.
     */
    public static Rule ofService(final String name, final Kind kind, final boolean hard, final String service,
        final String label)
    {
        return new Rule(name, kind, hard, null, Objects.requireNonNull(service, "service"), label);
    }

    /**
     * @param name  its name.
     * @param kind  {@link Kind#ON_LABEL} or {@link Kind#OFF_LABEL}.
     * @param hard  must (true) or should (false).
     * @param label the host label.
     * @param vms   the VMs.
     * @return the VM-host rule over the VMs.
     */
    public static Rule hostLabel(final String name, final Kind kind, final boolean hard, final String label,
        final long... vms)
    {
        if (kind != Kind.ON_LABEL && kind != Kind.OFF_LABEL)
        {
            throw new IllegalArgumentException("rule " + name + ": a VM-host rule is on-label or off-label, not " + kind.word);
        }
        return new Rule(name, kind, hard, vms, null, label);
    }

    /**
     * @param label a host label.
     * @throws IllegalArgumentException if it is empty, longer than 64 characters, or has a character
     *                                  other than letters, digits, '.', '_' and '-'.
     */
    public static void checkLabel(final String label)
    {
        Names.check("label", label);
    }

    /** @return the rule's name. */
    public String name()
    {
        return name;
    }

    /** @return what it asks. */
    public Kind kind()
    {
        return kind;
    }

    /** @return must (true) or should (false). */
    public boolean hard()
    {
        return hard;
    }

    /** @return the VMs it names (sorted, a copy), or null if it covers a service. */
    public long[] vms()
    {
        return vms == null ? null : vms.clone();
    }

    /** @return the service it covers, or null if it names VMs. */
    public String service()
    {
        return service;
    }

    /** @return the host label of a VM-host rule, else null. */
    public String label()
    {
        return label;
    }

    boolean names(final long vmId)
    {
        return vms != null && Arrays.binarySearch(vms, vmId) >= 0;
    }

    long[] vmsShared()
    {
        return vms;
    }

    /** @return the rule in words, e.g. "hard anti-affinity rule 'spread' over service web". */
    public String describe()
    {
        return (hard ? "hard " : "soft ") + kind.word + " rule '" + name + "'" +
            (label != null ? " (label " + label + ")" : "") +
            (service != null ? " over service " + service : " over VMs " + RulesText.vmList(vms));
    }

    /** @return the rule's text form: {@code KIND NAME hard|soft [label=L] service=S|vms=1,2,3}. */
    @Override
    public String toString()
    {
        return RulesText.format(this);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Rule r && name.equals(r.name) && kind == r.kind && hard == r.hard &&
            Arrays.equals(vms, r.vms) && Objects.equals(service, r.service) && Objects.equals(label, r.label);
    }

    @Override
    public int hashCode()
    {
        return name.hashCode();
    }

    private static long[] sortedUnique(final long[] vms)
    {
        final long[] sorted = vms.clone();
        Arrays.sort(sorted);
        int n = 0;
        for (int i = 0; i < sorted.length; i++)
        {
            if (i == 0 || sorted[i] != sorted[i - 1])
            {
                sorted[n++] = sorted[i];
            }
        }
        return n == sorted.length ? sorted : Arrays.copyOf(sorted, n);
    }
}
