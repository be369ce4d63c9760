package io.vmsched.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * A cluster's data directory, held by one owner at a time: a lock file ({@value #LOCK_FILE}, an OS
 * file lock, so a process killed with SIGKILL leaves no stale lock) with the owner's pid in it, and
 * a small manifest ({@value #MANIFEST_FILE}) recording how many hosts the directory's journals
 * belong to, so a host whose journal directory went missing is noticed instead of read as empty.
 * <p>
 * <b>Note:</b> Not threadsafe: one owner opens, checks and closes it.
 */
public final class DataDirectory implements AutoCloseable
{
    /** The lock file's name in the data directory. */
    public static final String LOCK_FILE = "vmsched.lock";
    /** The manifest's name in the data directory. */
    public static final String MANIFEST_FILE = "vmsched.manifest";
    private static final int FORMAT = 1;

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    private int knownHosts;

    /** The data directory is held by another owner (the message names its pid). */
    public static final class InUseException extends IllegalStateException
    {
        private static final long serialVersionUID = 1L;

        InUseException(final String message)
        {
            super(message);
        }
    }

    private DataDirectory(final Path dir, final FileChannel channel, final FileLock lock, final int knownHosts)
    {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
        this.knownHosts = knownHosts;
    }

    /**
     * Take a data directory for this process (creating it if needed) and read its manifest.
     *
     * @param dir the data directory.
     * @return the held directory; close it to let another owner in.
     * @throws InUseException           if another process (or another cluster in this JVM) holds it,
     *                                  naming its pid.
     * @throws IllegalArgumentException if the directory cannot be created or its manifest is unreadable.
     */
    public static DataDirectory acquire(final Path dir)
    {
        try
        {
            Files.createDirectories(dir);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot create data directory " + dir + ": " + ex.getMessage(), ex);
        }
        final Path lockFile = dir.resolve(LOCK_FILE);
        final FileChannel channel;
        try
        {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot open lock file " + lockFile + ": " + ex.getMessage(), ex);
        }
        FileLock lock = null;
        try
        {
            try
            {
                lock = channel.tryLock();
            }
            catch (final OverlappingFileLockException ex)
            {
                lock = null; // held by this JVM
            }
            if (lock == null)
            {
                throw new InUseException("data directory " + dir + " is in use by process " + owner(channel) +
                    " (lock " + lockFile + "); stop it first, or use another directory");
            }
            final byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
            channel.force(false);
            return new DataDirectory(dir, channel, lock, readManifest(dir));
        }
        catch (final IOException ex)
        {
            closeQuietly(channel);
            throw new IllegalArgumentException("cannot lock " + lockFile + ": " + ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(channel); // releases the lock too
            throw ex;
        }
    }

    /**
     * Whether a cluster (in this or another process) holds a data directory now.
     *
     * @param dir the directory.
     * @return the holder's pid in words, or null if none holds it (or it is no data directory).
     */
    public static String holder(final Path dir)
    {
        final Path lockFile = dir.resolve(LOCK_FILE);
        if (!Files.isRegularFile(lockFile))
        {
            return null;
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final FileLock lock;
            try
            {
                lock = channel.tryLock();
            }
            catch (final OverlappingFileLockException ex)
            {
                return "this process";
            }
            if (lock == null)
            {
                return "process " + owner(channel);
            }
            lock.release();
            return null;
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    private static String owner(final FileChannel channel)
    {
        try
        {
            final ByteBuffer buffer = ByteBuffer.allocate(32);
            final int n = channel.read(buffer, 0);
            final String text = n <= 0 ? "" : new String(buffer.array(), 0, n, StandardCharsets.US_ASCII).trim();
            return text.matches("\\d+") ? text : "(unknown pid)";
        }
        catch (final IOException ex)
        {
            return "(unknown pid)";
        }
    }

    private static int readManifest(final Path dir)
    {
        final Path file = dir.resolve(MANIFEST_FILE);
        if (!Files.exists(file))
        {
            return 0;
        }
        final Properties properties = new Properties();
        try (java.io.Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            properties.load(in);
        }
        catch (final IOException | IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(file + ": unreadable manifest: " + ex.getMessage(), ex);
        }
        final String format = properties.getProperty("format");
        final String hosts = properties.getProperty("hosts");
        if (!String.valueOf(FORMAT).equals(format) || hosts == null || !hosts.matches("\\d{1,7}"))
        {
            throw new IllegalArgumentException(file + ": not a vmsched manifest of format " + FORMAT +
                " (format=" + format + ", hosts=" + hosts + "); restore it or move the directory aside");
        }
        return Integer.parseInt(hosts);
    }

    /**
     * Read a data directory's manifest without taking the directory (tools reading its journals).
     *
     * @param dir a data directory.
     * @return the number of hosts its manifest records, 0 if it has no manifest.
     * @throws IllegalArgumentException if the manifest is unreadable.
     */
    public static int knownHosts(final Path dir)
    {
        return readManifest(dir);
    }

    /** @return the number of hosts the manifest records (0 for a directory that has none yet). */
    public int knownHosts()
    {
        return knownHosts;
    }

    /** @return the data directory. */
    public Path dir()
    {
        return dir;
    }

    /**
     * Check that a cluster of {@code hosts} hosts may start here: no fewer hosts than the directory
     * has journals for, and every journal directory the manifest knows of is there.
     *
     * @param hosts        the hosts the cluster starts with.
     * @param journalDirOf each host's journal directory.
     * @throws IllegalArgumentException naming the missing directory or the host count.
     */
    public void checkHosts(final int hosts, final java.util.function.IntFunction<Path> journalDirOf)
    {
        if (hosts < knownHosts)
        {
            throw new IllegalArgumentException(dir.resolve(MANIFEST_FILE) + " records " + knownHosts + " hosts, but the " +
                "cluster is started with " + hosts + ": the VMs of " + (knownHosts - 1 == hosts ? "host " + hosts :
                "hosts " + hosts + "-" + (knownHosts - 1)) + " would be lost; start it with all its hosts");
        }
        for (int h = 0; h < knownHosts; h++)
        {
            final Path journal = journalDirOf.apply(h);
            if (!Files.isDirectory(journal))
            {
                throw new IllegalArgumentException("host " + h + "'s journal directory " + journal + " is missing (" +
                    dir.resolve(MANIFEST_FILE) + " records " + knownHosts + " hosts): its VMs would be lost; restore it");
            }
        }
    }

    /**
     * Check that no journal directory belongs to a host beyond {@code hosts} (one the manifest may not
     * know of, in a directory older than the manifest).
     *
     * @param hosts    the hosts the cluster starts with.
     * @param journals the directory holding {@code <host>/} journal directories.
     * @throws IllegalArgumentException naming the extra host.
     */
    public void checkNoOtherJournals(final int hosts, final Path journals)
    {
        if (!Files.isDirectory(journals))
        {
            return;
        }
        try (java.util.stream.Stream<Path> dirs = Files.list(journals))
        {
            dirs.map(d -> d.getFileName().toString()).filter(name -> name.matches("\\d{1,9}"))
                .mapToLong(Long::parseLong).filter(id -> id >= hosts).min().ifPresent(id ->
                {
                    throw new IllegalArgumentException(journals + " holds the journal of host " + id + ", but the " +
                        "cluster is started with " + hosts + " hosts: its VMs would be lost; start it with all its hosts");
                });
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot list " + journals + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Record that the directory's journals belong to {@code hosts} hosts (written atomically).
     *
     * @param hosts the number of hosts.
     */
    public void recordHosts(final int hosts)
    {
        if (hosts == knownHosts)
        {
            return;
        }
        final Path file = dir.resolve(MANIFEST_FILE);
        final Path temp = dir.resolve(MANIFEST_FILE + ".tmp");
        final String text = "# vmsched data directory: the hosts whose journals are here. Do not edit.\n" +
            "format=" + FORMAT + "\nhosts=" + hosts + "\n";
        try
        {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING))
            {
                out.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
                out.force(true);
            }
            try
            {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            catch (final AtomicMoveNotSupportedException ex)
            {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot write " + file + ": " + ex.getMessage(), ex);
        }
        knownHosts = hosts;
    }

    /** Let another owner in. Idempotent. */
    @Override
    public void close()
    {
        if (channel.isOpen())
        {
            try
            {
                lock.release();
            }
            catch (final IOException ignored)
            {
                // closing the channel releases it too
            }
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(final FileChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // nothing more to release
        }
    }
}
