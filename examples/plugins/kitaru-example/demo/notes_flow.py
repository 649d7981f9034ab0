"""Flows that use everything kitaru-example adds, run on the active stack (a shelf stack).

    kitaru stack create notes --type shelf --shelf-dir ./shelf
    python demo/notes_flow.py take otters      # prints the execution id and the note
    python demo/notes_flow.py recall EXEC_ID   # a second execution loads the first one's note

``take_note`` calls the ``echo/`` models with ``kitaru.llm()``, and its
checkpoints return :class:`~kitaru_example.Note` values, which the plugin's
``note`` serializer writes into the shelf directory. ``recall`` runs in a new
process and reads the first execution's saved note back with ``kitaru.load()``,
through the same serializer.
"""

from __future__ import annotations

import sys

import kitaru

from kitaru_example import Note


@kitaru.checkpoint
def write_note(topic: str, facts: str) -> Note:
    note = Note(title=topic, body=facts, tags=("draft",))
    kitaru.save("latest_note", note)  # kept under a name other executions can load
    print(f"Saved the note on {topic!r} as latest_note")  # a runtime log line, kept in the shelf
    return note


@kitaru.checkpoint
def add_headline(note: Note) -> Note:
    headline = kitaru.llm(note.title, model="echo/shout", name="headline")  # runs inline, recorded here
    return Note(title=headline, body=note.body, tags=(*note.tags, "headline"))


@kitaru.flow
def take_note(topic: str) -> Note:
    facts = kitaru.llm(f"Three facts about {topic}", model="echo/parrot", name="facts")  # its own checkpoint
    return add_headline(write_note(topic, facts))


@kitaru.checkpoint
def reread(exec_id: str) -> Note:
    earlier = kitaru.load(exec_id, "latest_note")  # another execution's Note
    return Note(title=earlier.title, body=earlier.body, tags=(*earlier.tags, "reread"))


@kitaru.flow
def recall(exec_id: str) -> Note:
    return reread(exec_id)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("take", "recall"):
        raise SystemExit("usage: python demo/notes_flow.py take TOPIC | recall EXEC_ID")
    command, value = argv
    handle = take_note.run(value) if command == "take" else recall.run(value)
    note = handle.wait()
    print(f"Execution: {handle.exec_id}")
    print(f"Result: {note!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
