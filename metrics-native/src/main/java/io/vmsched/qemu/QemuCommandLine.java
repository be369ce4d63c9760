package io.vmsched.qemu;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A QEMU command line as {@code /proc/PID/cmdline} holds it (each argument NUL-terminated), and the launch spec
 * made from it: the command line without the parts that belong to one running instance.
 * <p>
 * Removed: the monitor of the control socket ({@code -qmp}, {@code -qmp-pretty} or {@code -monitor}
 * {@code unix:PATH,...}; or {@code -mon chardev=ID} with the {@code -chardev socket,id=ID,path=PATH,...} it uses),
 * {@code -pidfile FILE}, {@code -daemonize}, {@code -incoming URI} and {@code -S}. Kept as they are, in order:
 * the program and everything else (machine, memory, devices, drives and their image paths, {@code -object}s
 * with their host paths, other monitors and sockets). A copy started from the spec on the same host therefore
 * shares the host paths the original names.
 * <p>
 * Options are walked as QEMU does (each takes one argument unless it is in {@link #NO_ARGUMENT}; {@code --opt}
 * is {@code -opt}), so an argument that looks like an option (an {@code -append} string) is never taken for one.
 * Within an option's value a comma is written {@code ,,} (QEMU's escape).
 * <p>
 * Stateless: all static.
 */
final class QemuCommandLine
{
    /** QEMU 7.2's options that take no argument ({@code qemu-options.hx}, those without HAS_ARG). */
    static final Set<String> NO_ARGUMENT = Set.of("h", "help", "version", "mem-prealloc", "audio-help", "snapshot",
        "usb", "nographic", "portrait", "full-screen", "win2k-hack", "no-fd-bootchk", "no-acpi", "no-hpet",
        "singlestep", "preconfig", "S", "s", "enable-kvm", "xen-attach", "xen-domid-restrict", "no-reboot",
        "no-shutdown", "daemonize", "only-migratable", "nodefaults", "no-user-config", "async-teardown",
        "enable-sync-profile", "old-param", "semihosting", "alt-grab", "ctrl-grab", "no-quit", "no-frame", "sdl",
        "curses", "enable-fips", "nodefconfig", "perfmap", "jitdump");

    /** Per-instance options dropped wherever they are. */
    private static final Set<String> DROPPED = Set.of("pidfile", "daemonize", "incoming", "S");
    private static final Set<String> MONITORS = Set.of("qmp", "qmp-pretty", "monitor");

    /**
     * The spec of a command line, and whether it serves the control socket.
     *
     * @param spec           the command line without the per-instance parts.
     * @param servesControl  whether a monitor of the command line listens on the control socket.
     * @param monitorSockets the Unix socket paths of all its monitors, as written (for error messages).
     */
    record Result(List<String> spec, boolean servesControl, List<String> monitorSockets)
    {
    }

    private QemuCommandLine()
    {
    }

    /** @return the arguments of a {@code /proc/PID/cmdline} (NUL-terminated strings). */
    static List<String> split(final byte[] cmdline)
    {
        final List<String> args = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++)
        {
            if (cmdline[i] == 0)
            {
                args.add(new String(cmdline, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < cmdline.length)
        {
            args.add(new String(cmdline, start, cmdline.length - start, StandardCharsets.UTF_8));
        }
        return args;
    }

    /** @return the arguments in {@code /proc/PID/cmdline}'s format, each NUL-terminated. */
    static byte[] join(final List<String> args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final String arg : args)
        {
            out.writeBytes(arg.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /**
     * Make the spec of a command line.
     *
     * @param args    the command line, the program first.
     * @param control the control socket (absolute), or null to remove only -pidfile, -daemonize, -incoming, -S.
     * @param cwd     the process's working directory, against which relative socket paths are resolved; null if
     *                unknown (they are then taken as they are).
     * @return the spec, and whether the control socket is one of its monitors.
     */
    static Result strip(final List<String> args, final Path control, final Path cwd)
    {
        final int n = args.size();
        // first pass: the socket chardevs on the control socket, and the chardevs a -mon uses
        final Set<String> controlChardevs = new HashSet<>();
        final Set<String> monitorChardevs = new HashSet<>();
        final Map<String, String> chardevPaths = new LinkedHashMap<>();
        for (int i = 1; i < n; i++)
        {
            final String option = option(args.get(i));
            if (null == option || NO_ARGUMENT.contains(option) || i + 1 >= n)
            {
                continue;
            }
            final String value = args.get(++i);
            if ("chardev".equals(option))
            {
                final Map<String, String> o = options(value, "backend");
                if ("socket".equals(o.get("backend")) && o.containsKey("path"))
                {
                    chardevPaths.put(o.getOrDefault("id", ""), o.get("path"));
                    if (same(o.get("path"), control, cwd))
                    {
                        controlChardevs.add(o.getOrDefault("id", ""));
                    }
                }
            }
            else if ("mon".equals(option))
            {
                monitorChardevs.add(options(value, "chardev").get("chardev"));
            }
        }
        // a socket chardev no -mon uses is not a monitor (a serial port, a vhost-user socket): it stays
        controlChardevs.retainAll(monitorChardevs);
        final List<String> sockets = new ArrayList<>();
        boolean servesControl = false;
        final List<String> spec = new ArrayList<>(n);
        if (n > 0)
        {
            spec.add(args.get(0));
        }
        for (int i = 1; i < n; i++)
        {
            final String arg = args.get(i);
            final String option = option(arg);
            if (null == option) // a bare image file: QEMU's -hda
            {
                spec.add(arg);
                continue;
            }
            if (NO_ARGUMENT.contains(option) || i + 1 >= n)
            {
                if (!DROPPED.contains(option))
                {
                    spec.add(arg);
                }
                continue;
            }
            final String value = args.get(++i);
            boolean drop = DROPPED.contains(option);
            if (MONITORS.contains(option) && value.startsWith("unix:"))
            {
                final String path = options(value.substring("unix:".length()), "path").get("path");
                sockets.add(path);
                if (same(path, control, cwd))
                {
                    drop = true;
                    servesControl = true;
                }
            }
            else if ("mon".equals(option))
            {
                final String chardev = options(value, "chardev").get("chardev");
                if (chardevPaths.containsKey(chardev))
                {
                    sockets.add(chardevPaths.get(chardev));
                }
                if (controlChardevs.contains(chardev))
                {
                    drop = true;
                    servesControl = true;
                }
            }
            else if ("chardev".equals(option))
            {
                drop = controlChardevs.contains(options(value, "backend").getOrDefault("id", ""));
            }
            if (!drop)
            {
                spec.add(arg);
                spec.add(value);
            }
        }
        return new Result(List.copyOf(spec), servesControl, List.copyOf(sockets));
    }

    /** Character-device backends that hold nothing of the host's (a spare may open them ahead). */
    private static final Set<String> HARMLESS_CHARDEVS = Set.of("none", "null", "stdio", "mon:stdio", "vc", "pty",
        "ringbuf", "memory", "msmouse", "braille", "testdev");
    /** Options whose value is a character device (or a file) of the host. */
    private static final Set<String> CHARDEV_OPTIONS = Set.of("chardev", "serial", "parallel", "monitor", "qmp",
        "qmp-pretty", "debugcon", "gdb", "virtioconsole");
    /** Network backends that take a host device or endpoint. */
    private static final Set<String> HOST_NETDEVS = Set.of("tap", "bridge", "socket", "stream", "dgram", "vde",
        "l2tpv3", "vhost-user", "vhost-vdpa", "netmap", "af-xdp");

    /**
     * Whether a spec may be started ahead of its migration, as a spare: only if a second process of it takes
     * nothing from a VM of the same spec that runs (on this host, it may be the VM itself). Refused: a listening or
     * connecting socket, a file or host device as a character device or log ({@code -chardev}, {@code -serial},
     * {@code -monitor}, ... other than null, stdio, pty and the like), {@code -vnc}, {@code -spice}, {@code -gdb},
     * {@code -s}, {@code -D}, a {@code hostfwd} or a tap/bridge/socket network backend, a host device
     * ({@code vfio}), a memory backend shared with the host ({@code share=on}, which a start with prealloc writes).
     * A copy prepared for a migration takes them too, but only while the migration needs it; a spare would hold them
     * all along.
     *
     * @param spec a spec (without the control monitor: {@link #strip}).
     * @return null if it may be, else the first thing that stops it, e.g. {@code "-serial unix:/run/s,server=on"}.
     */
    static String notPoolable(final List<String> spec)
    {
        final int n = spec.size();
        for (int i = 1; i < n; i++)
        {
            final String option = option(spec.get(i));
            if (null == option)
            {
                continue;
            }
            if ("s".equals(option))
            {
                return spec.get(i); // a gdb server
            }
            if (NO_ARGUMENT.contains(option) || i + 1 >= n)
            {
                continue;
            }
            final String value = spec.get(++i);
            final String why = spec.get(i - 1) + " " + value;
            if (value.contains("hostfwd=") || value.contains("share=on") || value.contains("share=yes"))
            {
                return why;
            }
            switch (option)
            {
                case "vnc", "spice", "D", "incoming", "pidfile", "add-fd" ->
                {
                    if (!"none".equals(value))
                    {
                        return why;
                    }
                }
                case "netdev", "nic", "net" ->
                {
                    if (HOST_NETDEVS.contains(options(value, "type").get("type")))
                    {
                        return why;
                    }
                }
                case "device" ->
                {
                    if (options(value, "driver").getOrDefault("driver", "").startsWith("vfio"))
                    {
                        return why;
                    }
                }
                default ->
                {
                    if (CHARDEV_OPTIONS.contains(option))
                    {
                        // -chardev BACKEND,id=..., or -serial BACKEND:ARGS / BACKEND
                        final String first = options(value, "backend").get("backend");
                        final String backend = "chardev".equals(option) || first.startsWith("mon:") ? first :
                            first.contains(":") ? first.substring(0, first.indexOf(':')) : first;
                        if (!HARMLESS_CHARDEVS.contains(backend))
                        {
                            return why;
                        }
                    }
                }
            }
        }
        return null;
    }

    /** @return the option's name without its dashes, or null if the argument is not an option. */
    static String option(final String arg)
    {
        if (arg.length() < 2 || arg.charAt(0) != '-')
        {
            return null;
        }
        return arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
    }

    /**
     * Split an option's value as QEMU does: {@code key=value} pairs separated by commas ({@code ,,} is a comma),
     * the first element without {@code =} under an implied key, a later one without {@code =} a flag ({@code on}).
     */
    static Map<String, String> options(final String value, final String impliedKey)
    {
        final Map<String, String> options = new LinkedHashMap<>();
        final List<String> parts = new ArrayList<>();
        final StringBuilder part = new StringBuilder();
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (c == ',')
            {
                if (i + 1 < value.length() && value.charAt(i + 1) == ',')
                {
                    part.append(',');
                    i++;
                    continue;
                }
                parts.add(part.toString());
                part.setLength(0);
                continue;
            }
            part.append(c);
        }
        parts.add(part.toString());
        for (int i = 0; i < parts.size(); i++)
        {
            final String p = parts.get(i);
            final int eq = p.indexOf('=');
            if (eq < 0)
            {
                options.putIfAbsent(i == 0 ? impliedKey : p, i == 0 ? p : "on");
            }
            else
            {
                options.putIfAbsent(p.substring(0, eq), p.substring(eq + 1));
            }
        }
        return options;
    }

    /** @return a path with its commas doubled, for an option's value. */
    static String escape(final String path)
    {
        return path.replace(",", ",,");
    }

    /** Whether a socket path of a command line is the control socket (relative ones resolved against cwd). */
    private static boolean same(final String path, final Path control, final Path cwd)
    {
        if (null == control || null == path || path.isEmpty())
        {
            return false;
        }
        try
        {
            Path p = Path.of(path);
            if (!p.isAbsolute() && null != cwd)
            {
                p = cwd.resolve(p);
            }
            p = p.toAbsolutePath().normalize();
            if (p.equals(control))
            {
                return true;
            }
            // the same file reached through a symbolic link
            return Files.exists(p) && Files.exists(control) && Files.isSameFile(p, control);
        }
        catch (final InvalidPathException | java.io.IOException ex)
        {
            return false;
        }
    }
}
