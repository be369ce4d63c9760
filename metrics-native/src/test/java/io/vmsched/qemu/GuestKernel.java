package io.vmsched.qemu;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A tiny Linux guest for tests: Debian's kernel, the modules of its virtio balloon driver and busybox-static, as
 * {@code .ci/guest-kernel} leaves them in a directory ({@value #DIR_VARIABLE}, default {@code target/guest-kernel}
 * of the repository), and the initramfs {@link #writeInitramfs} builds of them. Its {@code /init} mounts
 * {@code /proc} and {@code /sys}, loads the modules in the order {@code modules.load} gives (each after those it
 * depends on), checks that the balloon device has its driver, prints {@value #READY} on the console (or a line
 * starting {@value #FAILED} with what went wrong), then idles forever: the kernel's balloon driver answers QEMU
 * by itself.
 */
final class GuestKernel
{
    static final String DIR_VARIABLE = "VMSCHED_GUEST_KERNEL_DIR";
    /** What the guest's init prints once the balloon driver holds the device. */
    static final String READY = "vmsched-guest: balloon ready";
    /** What the guest's init prints, then what failed, when it cannot get there. */
    static final String FAILED = "vmsched-guest: failed";

    final Path dir;
    final Path vmlinuz;
    final Path busybox;
    final List<String> modules;

    private GuestKernel(final Path dir, final List<String> modules)
    {
        this.dir = dir;
        this.vmlinuz = dir.resolve("vmlinuz");
        this.busybox = dir.resolve("busybox");
        this.modules = modules;
    }

    /**
     * @return {@value #DIR_VARIABLE} (a relative one is taken from the repository's root), or the repository's
     *         {@code target/guest-kernel}; the repository is the parent of this module's directory.
     */
    static Path dir()
    {
        final Path repository = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
            .toAbsolutePath().getParent();
        final String variable = System.getenv(DIR_VARIABLE);
        return null == variable || variable.isBlank() ?
            repository.resolve("target/guest-kernel") : repository.resolve(variable);
    }

    /** @return why the guest cannot be booted from {@code dir} (one line, what to do), or null if it can. */
    static String missing(final Path dir)
    {
        final String what = "no guest kernel in " + dir + " (vmlinuz, busybox, modules.load and its modules): run " +
            ".ci/guest-kernel to fetch Debian's (.ci/run does), or set " + DIR_VARIABLE + " to where it put them";
        if (!Files.isRegularFile(dir.resolve("vmlinuz")) || !Files.isExecutable(dir.resolve("busybox")) ||
            !Files.isRegularFile(dir.resolve("modules.load")))
        {
            return what;
        }
        try
        {
            for (final String module : Files.readAllLines(dir.resolve("modules.load")))
            {
                if (!Files.isRegularFile(dir.resolve("modules").resolve(module)))
                {
                    return what;
                }
            }
        }
        catch (final IOException ex)
        {
            return what + " (" + ex.getMessage() + ")";
        }
        return null;
    }

    /** @throws IOException if {@link #missing} says why. */
    static GuestKernel at(final Path dir) throws IOException
    {
        final String missing = missing(dir);
        if (null != missing)
        {
            throw new IOException(missing);
        }
        return new GuestKernel(dir, List.copyOf(Files.readAllLines(dir.resolve("modules.load"))));
    }

    /** @return the guest's {@code /init}, a busybox shell script. */
    String init()
    {
        return String.join("\n",
            "#!/bin/busybox sh",
            "# vmsched's test guest: load the balloon's driver, say so on the console, idle",
            "/bin/busybox mount -t proc proc /proc",
            "# (busybox finds itself for its links through /proc/self/exe)",
            "/bin/busybox --install -s /bin",
            "export PATH=/bin",
            "mount -t sysfs sysfs /sys",
            "fail() { echo \"" + FAILED + ": $*\"; while :; do sleep 3600; done; }",
            "for module in " + String.join(" ", modules) + "; do",
            "    insmod /lib/modules/$module || fail \"insmod $module\"",
            "done",
            "# a virtio device bound to the balloon driver is linked in its directory",
            "set -- /sys/bus/virtio/drivers/virtio_balloon/virtio*",
            "devices=$(ls /sys/bus/virtio/devices 2>&1)",
            "[ -e \"$1\" ] || fail \"no virtio device bound to virtio_balloon (virtio devices: ${devices:-none})\"",
            "echo \"" + READY + " ($(basename \"$1\"))\"",
            "while :; do sleep 3600; done",
            "");
    }

    /**
     * Write the guest's initramfs: {@code /bin/busybox} (its applets are linked by {@code /init}), {@code /init},
     * {@code /lib/modules/*.ko}, {@code /dev/console}, and the mount points {@code /proc}, {@code /sys}.
     *
     * @return {@code file}.
     */
    Path writeInitramfs(final Path file) throws IOException
    {
        try (NewcArchive archive = new NewcArchive(new BufferedOutputStream(Files.newOutputStream(file))))
        {
            for (final String directory : List.of("bin", "dev", "proc", "sys", "lib", "lib/modules"))
            {
                archive.directory(directory);
            }
            archive.characterDevice("dev/console", 0600, 5, 1);
            archive.file("bin/busybox", 0755, Files.readAllBytes(busybox));
            archive.symlink("bin/sh", "busybox");
            for (final String module : modules)
            {
                archive.file("lib/modules/" + module, 0644, Files.readAllBytes(dir.resolve("modules").resolve(module)));
            }
            archive.file("init", 0755, init().getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }
}
