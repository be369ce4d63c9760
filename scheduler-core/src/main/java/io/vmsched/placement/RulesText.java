package io.vmsched.placement;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The text form of services and rules: one statement per line, what a constraints file holds, the CLI
 * takes and the journal stores. {@code #} starts a comment; blank lines are skipped.
 * <pre>
 * service web size=3 min=2 vms=1,2,3       # a service, its size, its minimum, its VMs (optional)
 * anti-affinity web-spread hard service=web
 * affinity db-pair soft vms=4,5
 * on-label gpu-only hard label=gpu vms=6,7
 * off-label not-edge soft label=edge service=web
 * label gpu hosts=0-3,8                    # hosts carrying a label (the simulator only)
 * </pre>
 * A rule is {@code KIND NAME hard|soft [label=LABEL] service=NAME|vms=ID,ID,...}. A {@code label}
 * statement gives hosts a label by their ids ({@code hosts=} ids and inclusive ranges); only the
 * simulator takes it: a cluster's hosts carry the labels of their config.
 */
public final class RulesText
{
    /** What a text holds, in its order. */
    public static final class Statements
    {
        /** Services defined, in order. */
        public final List<Service> services = new ArrayList<>();
        /** Each service's VMs given with it ({@code vms=}), by service name. */
        public final Map<String, long[]> members = new LinkedHashMap<>();
        /** Rules, in order. */
        public final List<Rule> rules = new ArrayList<>();
        /** Hosts given each label ({@code label NAME hosts=...}), by label, in order. */
        public final Map<String, int[]> hostLabels = new LinkedHashMap<>();
        /** Where each statement is, for messages: {@code service NAME}, {@code rule NAME}, {@code label NAME} to its line. */
        private final Map<String, Integer> lines = new HashMap<>();
        private String source = "";

        /**
         * @param what {@code service NAME}, {@code rule NAME} or {@code label NAME}.
         * @return {@code source:line: } of that statement, or "" if it was not read from a text.
         */
        public String at(final String what)
        {
            final Integer line = lines.get(what);
            return line == null ? "" : source + ":" + line + ": ";
        }
    }

    private RulesText()
    {
    }

    /**
     * Read a constraints file.
     *
     * @param file the file.
     * @return its statements.
     * @throws IllegalArgumentException {@code file:line: what is wrong} for the first mistake, or that it
     *                                  cannot be read.
     */
    public static Statements read(final Path file)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        }
        catch (final IOException | java.io.UncheckedIOException ex)
        {
            throw new IllegalArgumentException(file + ": cannot be read (" + ex.getMessage() + ")");
        }
        return parse(file.toString(), lines);
    }

    /**
     * @param where  the source's name for messages (a file's path).
     * @param lines  its lines.
     * @return the statements.
     * @throws IllegalArgumentException {@code where:line: what is wrong} for the first mistake.
     */
    public static Statements parse(final String where, final List<String> lines)
    {
        final Statements out = new Statements();
        out.source = where;
        for (int i = 0; i < lines.size(); i++)
        {
            final String line = strip(lines.get(i));
            if (line.isEmpty())
            {
                continue;
            }
            try
            {
                if (line.startsWith("service ") || line.equals("service"))
                {
                    final Object[] service = serviceAndVms(line);
                    final Service s = (Service)service[0];
                    for (final Service other : out.services)
                    {
                        if (other.name().equals(s.name()))
                        {
                            throw new IllegalArgumentException("service " + s.name() + " is defined twice");
                        }
                    }
                    out.services.add(s);
                    out.lines.put("service " + s.name(), i + 1);
                    if (service[1] != null)
                    {
                        out.members.put(s.name(), (long[])service[1]);
                    }
                }
                else if (line.startsWith("label ") || line.equals("label"))
                {
                    final String[] words = line.split("\\s+");
                    if (words.length != 3 || !words[2].startsWith("hosts="))
                    {
                        throw new IllegalArgumentException("label needs NAME hosts=ID,FROM-TO,... (e.g. label gpu hosts=0-3,8)");
                    }
                    Names.check("label", words[1]);
                    if (out.hostLabels.containsKey(words[1]))
                    {
                        throw new IllegalArgumentException("label " + words[1] + " is given twice");
                    }
                    out.hostLabels.put(words[1], parseHosts(words[2].substring("hosts=".length())));
                    out.lines.put("label " + words[1], i + 1);
                }
                else
                {
                    final Rule rule = parseRule(line);
                    for (final Rule other : out.rules)
                    {
                        if (other.name().equals(rule.name()))
                        {
                            throw new IllegalArgumentException("rule " + rule.name() + " is defined twice");
                        }
                    }
                    out.rules.add(rule);
                    out.lines.put("rule " + rule.name(), i + 1);
                }
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException(where + ":" + (i + 1) + ": " + ex.getMessage());
            }
        }
        return out;
    }

    /**
     * @param line a rule's text form.
     * @return the rule.
     * @throws IllegalArgumentException naming what is wrong.
     */
    public static Rule parseRule(final String line)
    {
        final String[] words = strip(line).split("\\s+");
        final Rule.Kind kind = Rule.Kind.of(words[0]);
        if (kind == null)
        {
            throw new IllegalArgumentException("unknown statement '" + words[0] +
                "' (expected service, label, affinity, anti-affinity, on-label or off-label)");
        }
        if (words.length < 4)
        {
            throw new IllegalArgumentException(kind.word() + " needs NAME hard|soft and service= or vms=");
        }
        final String name = words[1];
        final boolean hard;
        if ("hard".equals(words[2]))
        {
            hard = true;
        }
        else if ("soft".equals(words[2]))
        {
            hard = false;
        }
        else
        {
            throw new IllegalArgumentException("rule " + name + ": expected hard or soft, got '" + words[2] + "'");
        }
        String label = null;
        String service = null;
        long[] vms = null;
        for (int i = 3; i < words.length; i++)
        {
            final String word = words[i];
            final int eq = word.indexOf('=');
            final String key = eq < 0 ? word : word.substring(0, eq);
            final String value = eq < 0 ? "" : word.substring(eq + 1);
            switch (key)
            {
                case "label" -> label = once(label, "label", value, name);
                case "service" -> service = once(service, "service", value, name);
                case "vms" ->
                {
                    if (vms != null)
                    {
                        throw new IllegalArgumentException("rule " + name + ": vms given twice");
                    }
                    vms = parseVms(value);
                }
                default -> throw new IllegalArgumentException("rule " + name + ": unknown setting '" + word +
                    "' (expected label=, service= or vms=)");
            }
        }
        if (vms != null && service != null)
        {
            throw new IllegalArgumentException("rule " + name + ": give service= or vms=, not both");
        }
        if (service != null)
        {
            return Rule.ofService(name, kind, hard, service, label);
        }
        if (vms == null)
        {
            throw new IllegalArgumentException("rule " + name + ": service= or vms= is required");
        }
        return kind == Rule.Kind.ON_LABEL || kind == Rule.Kind.OFF_LABEL ?
            Rule.hostLabel(name, kind, hard, label, vms) :
            (label != null ? fail("rule " + name + ": a label is meaningless for " + kind.word()) :
                kind == Rule.Kind.AFFINITY ? Rule.affinity(name, hard, vms) : Rule.antiAffinity(name, hard, vms));
    }

    /**
     * @param line a service's text form ({@code service NAME size=N [min=M] [vms=...]}).
     * @return the service, and its VMs (null if none given).
     */
    static Object[] serviceAndVms(final String line)
    {
        final String[] words = strip(line).split("\\s+");
        if (words.length < 2)
        {
            throw new IllegalArgumentException("service needs a NAME and size=N");
        }
        final String name = words[1];
        Integer size = null;
        Integer min = null;
        long[] vms = null;
        for (int i = 2; i < words.length; i++)
        {
            final String word = words[i];
            final int eq = word.indexOf('=');
            final String key = eq < 0 ? word : word.substring(0, eq);
            final String value = eq < 0 ? "" : word.substring(eq + 1);
            switch (key)
            {
                case "size" -> size = count(name, "size", value);
                case "min" -> min = count(name, "min", value);
                case "vms" -> vms = parseVms(value);
                default -> throw new IllegalArgumentException("service " + name + ": unknown setting '" + word +
                    "' (expected size=, min= or vms=)");
            }
        }
        if (size == null)
        {
            throw new IllegalArgumentException("service " + name + ": size=N is required");
        }
        return new Object[]{new Service(name, size, min == null ? size : min), vms};
    }


    /** @return the rule's text form. */
    static String format(final Rule rule)
    {
        final StringBuilder sb = new StringBuilder(64).append(rule.kind().word()).append(' ').append(rule.name())
            .append(rule.hard() ? " hard" : " soft");
        if (rule.label() != null)
        {
            sb.append(" label=").append(rule.label());
        }
        if (rule.service() != null)
        {
            sb.append(" service=").append(rule.service());
        }
        else
        {
            sb.append(" vms=").append(vmList(rule.vmsShared()));
        }
        return sb.toString();
    }

    static String vmList(final long[] vms)
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < vms.length; i++)
        {
            sb.append(i == 0 ? "" : ",").append(vms[i]);
        }
        return sb.toString();
    }

    static long[] parseVms(final String value)
    {
        if (value.isEmpty())
        {
            throw new IllegalArgumentException("vms= needs a list of VM ids, e.g. vms=1,2");
        }
        final String[] parts = value.split(",");
        final long[] vms = new long[parts.length];
        for (int i = 0; i < parts.length; i++)
        {
            try
            {
                vms[i] = Long.parseLong(parts[i]);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("'" + parts[i] + "' in vms= is not a VM id");
            }
        }
        return vms;
    }

    /**
     * @param value host ids and inclusive ranges, e.g. {@code 0-49,60}.
     * @return the ids, in the order given (a range's in order).
     * @throws IllegalArgumentException naming the part that is not an id or a range of them.
     */
    public static int[] parseHosts(final String value)
    {
        if (value.isEmpty())
        {
            throw new IllegalArgumentException("no host ids given (ids and ranges FROM-TO, e.g. 0-49,60)");
        }
        final org.agrona.collections.IntArrayList out = new org.agrona.collections.IntArrayList();
        for (final String part : value.split(",", -1))
        {
            final int dash = part.indexOf('-', 1);
            try
            {
                final int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
                final int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
                if (from < 0 || to < from)
                {
                    throw new NumberFormatException();
                }
                if ((long)out.size() + to - from + 1 > 1_000_000)
                {
                    throw new IllegalArgumentException("'" + part + "' names more than a million hosts");
                }
                for (int h = from; h <= to; h++)
                {
                    out.addInt(h);
                }
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("'" + part + "' is not a host id or a range FROM-TO of them (ids 0 or more)");
            }
        }
        return out.toIntArray();
    }

    private static int count(final String name, final String key, final String value)
    {
        try
        {
            final int n = Integer.parseInt(value);
            if (n < 0)
            {
                throw new NumberFormatException();
            }
            return n;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("service " + name + ": " + key + "= needs a count of 0 or more, got '" +
                value + "'");
        }
    }

    private static String once(final String current, final String key, final String value, final String name)
    {
        if (current != null)
        {
            throw new IllegalArgumentException("rule " + name + ": " + key + " given twice");
        }
        if (value.isEmpty())
        {
            throw new IllegalArgumentException("rule " + name + ": " + key + "= needs a value");
        }
        return value;
    }

    private static <T> T fail(final String message)
    {
        throw new IllegalArgumentException(message);
    }

    private static String strip(final String line)
    {
        final int hash = line.indexOf('#');
        return (hash < 0 ? line : line.substring(0, hash)).strip();
    }
}
