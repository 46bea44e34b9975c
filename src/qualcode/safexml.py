"""Parsing XML from files people give us: no entity expansion, no external references, bounded depth.

defusedxml refuses what makes XML dangerous (entity declarations, the "billion laughs", external
entities that read local files); the standard library's parser expands internal entities. A tree
nested thousands deep parses, but code that walks it recursively would hit Python's recursion
limit, so it is refused here with a depth message, walked without recursion.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from qualcode.errors import InputError
from qualcode.limits import MAX_XML_DEPTH


def parse_xml(data: bytes, where: str | Path, max_depth: int = MAX_XML_DEPTH) -> ET.Element:
    """The root element of ``data``; a one-line :class:`InputError` naming ``where`` otherwise."""
    try:
        root = fromstring(data)
    except DefusedXmlException as exc:
        raise InputError(
            f"the XML declares entities or external references ({exc.__class__.__name__}); "
            "qualcode does not read those",
            path=where,
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        reason = str(exc).split(":")[0]
        raise InputError(f"not well-formed XML ({reason})", path=where, line=line) from None
    check_depth(root, where, max_depth)
    return root


def check_depth(root: ET.Element, where: str | Path, max_depth: int = MAX_XML_DEPTH) -> int:
    """The depth of the tree under ``root``; an :class:`InputError` if it passes ``max_depth``."""
    deepest = 1
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if depth > max_depth:
                raise InputError(
                    f"the XML is nested more than {max_depth} elements deep "
                    f"(<{element.tag.rpartition('}')[2]}>); qualcode reads at most {max_depth}",
                    path=where,
                )
        stack.extend((child, depth + 1) for child in element)
    return deepest
