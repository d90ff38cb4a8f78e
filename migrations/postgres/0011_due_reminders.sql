-- An action item's owner is reminded directly on its due date, once: `due_reminded` holds the
-- due date that reminder was for (set at once for an item added with a date already past, of
-- which its author was told when adding it).

ALTER TABLE action_items ADD COLUMN due_reminded TEXT;

-- Items already overdue before reminders existed are not all reminded at once on upgrade (the
-- follow-up reviews carry them).
UPDATE action_items SET due_reminded = due WHERE due IS NOT NULL AND due < to_char(CURRENT_DATE, 'YYYY-MM-DD');

CREATE INDEX action_items_due_reminders ON action_items (due)
    WHERE status = 'open' AND owner IS NOT NULL AND due IS NOT NULL AND due_reminded IS NULL;
