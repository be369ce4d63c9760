package io.vmsched.aeron;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Reads the cluster's secret (the key every member shares) from a file that only its owner may
 * read or write. Create one with {@code head -c 32 /dev/urandom > FILE && chmod 600 FILE}.
 */
public final class ClusterSecret
{
    /** The secret file cannot be used; the message is one line naming the file and what to do. */
    public static final class SecretFileException extends IllegalArgumentException
    {
        private static final long serialVersionUID = 1L;

        SecretFileException(final String message)
        {
            super(message);
        }
    }

    private static final Set<PosixFilePermission> FOR_OTHERS = Set.of(
        PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private ClusterSecret()
    {
    }

    /**
     * Read a secret file, refusing one that group or others may read or write, an empty one, or
     * one whose permissions cannot be checked.
     *
     * @param file the file.
     * @return its bytes (all of them: a trailing newline is part of the secret).
     * @throws SecretFileException with a one-line message naming the file.
     */
    public static byte[] read(final Path file)
    {
        try
        {
            final PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            if (view == null)
            {
                throw new SecretFileException("secret file " + file + ": its file system has no POSIX permissions to check; keep it on one that does");
            }
            if (!Files.isRegularFile(file))
            {
                throw new SecretFileException("secret file " + file + ": " +
                    (Files.exists(file) ? "not a regular file" : "no such file"));
            }
            final Set<PosixFilePermission> permissions = view.readAttributes().permissions();
            for (final PosixFilePermission p : FOR_OTHERS)
            {
                if (permissions.contains(p))
                {
                    throw new SecretFileException("secret file " + file + " is accessible to group or others (" +
                        p.name().toLowerCase().replace('_', ' ') + "): run 'chmod 600 " + file + "'");
                }
            }
            final byte[] secret = Files.readAllBytes(file);
            if (secret.length == 0)
            {
                throw new SecretFileException("secret file " + file + " is empty: write one with 'head -c 32 /dev/urandom > " + file + "'");
            }
            return secret;
        }
        catch (final NoSuchFileException ex)
        {
            throw new SecretFileException("secret file " + file + ": no such file");
        }
        catch (final IOException ex)
        {
            throw new SecretFileException("secret file " + file + ": cannot read it (" + ex.getMessage() + ")");
        }
    }

    /**
     * Write a new random secret of 32 bytes to a file only its owner may read and write (a demo's or a
     * test's cluster; an operator makes one with {@code head -c 32 /dev/urandom > FILE; chmod 600 FILE}).
     *
     * @param file the file, which must not exist.
     * @throws SecretFileException with a one-line message naming the file.
     */
    public static void generate(final Path file)
    {
        final byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        try
        {
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.write(file, secret);
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            throw new SecretFileException("secret file " + file + ": cannot create it (" + ex.getMessage() + ")");
        }
    }
}
