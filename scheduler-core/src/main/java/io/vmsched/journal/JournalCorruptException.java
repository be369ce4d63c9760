package io.vmsched.journal;

/**
 * A journal that cannot be trusted: a record that cannot be decoded (torn, of an unknown schema,
 * failing its CRC32C), or a journal file that is missing, cut short or damaged. The message is one
 * line naming the journal (and the record's index, or the file).
 */
public final class JournalCorruptException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long index;

    /**
     * @param where  the journal (its directory).
     * @param index  the bad record's index.
     * @param reason what is wrong with it.
     */
    public JournalCorruptException(final String where, final long index, final String reason)
    {
        super("journal " + where + ": " + (index < 0 ? "at its first record" : "record " + index) + ": " + reason);
        this.index = index;
    }

    private JournalCorruptException(final String message)
    {
        super(message);
        this.index = -1;
    }

    /**
     * A damaged, missing or unreadable journal file.
     *
     * @param file   the file (or the journal's directory).
     * @param reason what is wrong with it.
     * @return the exception.
     */
    public static JournalCorruptException file(final java.nio.file.Path file, final String reason)
    {
        return new JournalCorruptException("journal file " + file + ": " + reason);
    }

    /** @return the bad record's index (-1 for a damaged file). */
    public long index()
    {
        return index;
    }
}
