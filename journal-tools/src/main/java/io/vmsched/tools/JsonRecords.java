package io.vmsched.tools;

import com.fasterxml.jackson.core.JsonGenerator;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Journal records as JSON lines, one object per record: {@code seq, host, index, timeNs, type,
 * migration, vm, peer, aux, a, b}, then {@code code} (the AbortReason's or DecisionOutcome's label) and
 * {@code text} for ABORTED and DECISION, or {@code kind} and
 * {@code stateBytes} for the records that carry a guest (ADMITTED, SUSPENDED, RECEIVED), or {@code request,
 * memoryBytes, processors} (and {@code outcome, reason} in a result) for BALLOON_REQUESTED and BALLOON_RESULT. A non-finite
 * {@code a} or {@code b} is written as null. A {@link JournalSet.Handler}, so a read can feed it:
 * {@code set.forEach(records)}.
 * <p>
 * <b>Note:</b> Not threadsafe: one thread writes. Output is buffered until {@link #flush()} or
 * {@link #close()}, which leave the writer open.
 */
public final class JsonRecords implements JournalSet.Handler, AutoCloseable
{
    private final JsonGenerator generator;
    private final io.vmsched.journal.BalloonRecord balloon = new io.vmsched.journal.BalloonRecord();

    /**
     * @param out where the lines go; the caller closes it.
     */
    public JsonRecords(final Writer out)
    {
        this.generator = Json.lines(out);
    }

    /**
     * Write one record as a line.
     *
     * @return true: every record is written (filter before, e.g. with {@link RecordFilter}).
     * @throws UncheckedIOException if the writer fails.
     */
    @Override
    public boolean onRecord(final long seq, final int host, final long index, final JournalRecord record)
    {
        try
        {
            write(seq, host, index, record);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return true;
    }

    private void write(final long seq, final int host, final long index, final JournalRecord r) throws IOException
    {
        final RecordType type = r.type();
        generator.writeStartObject();
        generator.writeNumberField("seq", seq);
        generator.writeNumberField("host", host);
        generator.writeNumberField("index", index);
        generator.writeNumberField("timeNs", r.timestampNs());
        generator.writeStringField("type", type.name());
        generator.writeNumberField("migration", r.migrationId());
        generator.writeNumberField("vm", r.vmId());
        generator.writeNumberField("peer", r.peer());
        generator.writeNumberField("aux", r.aux());
        Json.number(generator, "a", r.a());
        Json.number(generator, "b", r.b());
        if (type == RecordType.ABORTED || type == RecordType.DECISION)
        {
            generator.writeStringField("code", type == RecordType.ABORTED ? r.abortReason().label() :
                r.decisionOutcome().label());
            generator.writeStringField("text", r.text());
        }
        else if (type == RecordType.ADMITTED || type == RecordType.SUSPENDED || type == RecordType.RECEIVED)
        {
            generator.writeStringField("kind", r.guestKind());
            generator.writeNumberField("stateBytes", r.guestStateLength());
        }
        else if (type == RecordType.BALLOON_REQUESTED || type == RecordType.BALLOON_RESULT)
        {
            balloon.wrap(r);
            generator.writeNumberField("request", balloon.requestId());
            generator.writeNumberField("memoryBytes", balloon.memoryBytes());
            generator.writeNumberField("processors", balloon.processors());
            if (type == RecordType.BALLOON_RESULT)
            {
                generator.writeStringField("outcome", String.valueOf(balloon.outcome()));
                generator.writeStringField("reason", balloon.reason());
            }
        }
        generator.writeEndObject();
        Json.endLine(generator);
    }

    /**
     * Pass what is buffered to the writer, and flush it.
     *
     * @throws UncheckedIOException if the writer fails.
     */
    public void flush()
    {
        try
        {
            generator.flush();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Flush and release the generator; the writer stays open.
     *
     * @throws UncheckedIOException if the writer fails.
     */
    @Override
    public void close()
    {
        try
        {
            generator.close();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
