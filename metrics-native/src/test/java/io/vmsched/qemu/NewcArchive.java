package io.vmsched.qemu;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A cpio archive in the "new ASCII" (newc) format, the format of a Linux initramfs, written entry by entry. Each
 * entry is a header of ASCII text, its name, then its data:
 * <pre>
 *  0      6       14      22      30      38      46      54      62      70      78      86      94     102     110
 * +------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+
 * |070701|  ino  | mode  |  uid  |  gid  | nlink | mtime | size  |devmaj |devmin |rdevmaj|rdevmin|namesiz| check |
 * +------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+
 * | name, NUL-terminated (namesize counts the NUL), padded with NULs to a multiple of 4 bytes from the header  |
 * +------------------------------------------------------------------------------------------------------------+
 * | data (size bytes: a file's contents, a symbolic link's target), padded with NULs to a multiple of 4 bytes  |
 * +------------------------------------------------------------------------------------------------------------+
 * </pre>
 * Every field after the magic is eight hexadecimal digits; check is 0 (no checksum). The archive ends with an
 * entry named {@code TRAILER!!!}, which {@link #close} writes. A directory must come before what it holds: the
 * kernel does not create parents. Owner root, time 0.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
final class NewcArchive implements AutoCloseable
{
    private static final int HEADER_LENGTH = 110;
    private static final int DIRECTORY = 0040000;
    private static final int REGULAR = 0100000;
    private static final int SYMLINK = 0120000;
    private static final int CHARACTER_DEVICE = 0020000;

    private final OutputStream out;
    private long position;
    private int inode = 1;

    /** @param out where the archive goes; closed by {@link #close}. */
    NewcArchive(final OutputStream out)
    {
        this.out = out;
    }

    /** A directory, e.g. {@code "bin"} (names are relative, without a leading slash). */
    void directory(final String name) throws IOException
    {
        entry(name, DIRECTORY | 0755, 0, 0, new byte[0]);
    }

    /** A regular file with permissions {@code permissions} (e.g. {@code 0755}). */
    void file(final String name, final int permissions, final byte[] data) throws IOException
    {
        entry(name, REGULAR | permissions, 0, 0, data);
    }

    /** A symbolic link to {@code target}. */
    void symlink(final String name, final String target) throws IOException
    {
        entry(name, SYMLINK | 0777, 0, 0, target.getBytes(StandardCharsets.UTF_8));
    }

    /** A character device node, e.g. {@code dev/console} 5:1. */
    void characterDevice(final String name, final int permissions, final int major, final int minor) throws IOException
    {
        entry(name, CHARACTER_DEVICE | permissions, major, minor, new byte[0]);
    }

    /** Write the trailer and close the stream. */
    @Override
    public void close() throws IOException
    {
        try
        {
            entry("TRAILER!!!", 0, 0, 0, new byte[0]);
            out.flush();
        }
        finally
        {
            out.close();
        }
    }

    private void entry(final String name, final int mode, final int rdevMajor, final int rdevMinor, final byte[] data)
        throws IOException
    {
        final byte[] nameBytes = (name + '\0').getBytes(StandardCharsets.UTF_8);
        final StringBuilder header = new StringBuilder(HEADER_LENGTH).append("070701");
        for (final long field : new long[] {
            "TRAILER!!!".equals(name) ? 0 : inode++, mode, 0, 0, DIRECTORY == (mode & 0170000) ? 2 : 1, 0, data.length,
            0, 0, rdevMajor, rdevMinor, nameBytes.length, 0})
        {
            header.append(String.format("%08X", field));
        }
        write(header.toString().getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        pad();
        write(data);
        pad();
    }

    private void write(final byte[] bytes) throws IOException
    {
        out.write(bytes);
        position += bytes.length;
    }

    private void pad() throws IOException
    {
        while (position % 4 != 0)
        {
            out.write(0);
            position++;
        }
    }
}
