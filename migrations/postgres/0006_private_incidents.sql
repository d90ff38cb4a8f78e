-- Private incidents (`/incident declare --private`): their channel is private, they are not
-- announced by title, and the web view shows them only to their channel's members.
ALTER TABLE incidents ADD COLUMN private BIGINT NOT NULL DEFAULT 0;
