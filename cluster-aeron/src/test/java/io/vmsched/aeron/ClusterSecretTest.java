package io.vmsched.aeron;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterSecretTest
{
    @TempDir
    Path dir;

    private Path file(final String name, final byte[] content, final String mode) throws Exception
    {
        final Path f = dir.resolve(name);
        Files.write(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private static void assertRefused(final Path f, final String why)
    {
        final ClusterSecret.SecretFileException ex = assertThrows(ClusterSecret.SecretFileException.class, () -> ClusterSecret.read(f));
        assertTrue(ex.getMessage().contains(f.toString()), "names the file: " + ex.getMessage());
        assertTrue(ex.getMessage().contains(why), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"), "one line: " + ex.getMessage());
    }

    @Test
    void anOwnerOnlyFileIsRead() throws Exception
    {
        final byte[] secret = TestSupport.secret(3);
        assertArrayEquals(secret, ClusterSecret.read(file("ok", secret, "rw-------")));
        assertArrayEquals(secret, ClusterSecret.read(file("ro", secret, "r--------")));
    }

    @Test
    void aWorldReadableFileIsRefused() throws Exception
    {
        assertRefused(file("world", TestSupport.secret(3), "rw-r--r--"), "chmod 600");
    }

    @Test
    void aGroupReadableFileIsRefused() throws Exception
    {
        assertRefused(file("group", TestSupport.secret(3), "rw-r-----"), "group or others");
    }

    @Test
    void anEmptyFileIsRefused() throws Exception
    {
        assertRefused(file("empty", new byte[0], "rw-------"), "is empty");
    }

    @Test
    void aMissingFileIsRefused()
    {
        assertRefused(dir.resolve("nowhere"), "no such file");
    }
}
