"""The home-assistant toolset of examples/tools/*.json, written as Python.

Four functions use `@tool` (type hints + Google-style docstrings); `set_thermostat` is a
pydantic model. `TOOLS` loads like any other tool source:

    from needle_router import Toolset
    from examples.tools_python import TOOLS
    toolset = Toolset.load(TOOLS)

These are demo tools without a home to control: each returns the action it would take.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from needle_router.adapters import tool


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, Any]:
    """Get the current weather for a city.

    Args:
        city: City name, e.g. Paris.
        unit: Temperature unit for the report.
    """
    return {"action": "get_weather", "city": city, "unit": unit}


@tool
def set_timer(minutes: Annotated[int, Field(ge=1, le=600)], label: str = "Timer") -> dict[str, Any]:
    """Start a countdown timer.

    Args:
        minutes: Timer length in minutes.
        label: Name shown when the timer rings.
    """
    return {"action": "set_timer", "minutes": minutes, "label": label}


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WHATSAPP = "whatsapp"


@tool(name="send_message")
def send(recipient: str, text: str, channel: Channel = Channel.SMS) -> dict[str, Any]:
    """Send a text message to a contact.

    Args:
        recipient: Contact name or phone number.
        text: The message to send.
        channel: How to deliver the message.

    Returns:
        What would be sent.
    """
    return {"action": "send_message", "recipient": recipient, "text": text, "channel": Channel(channel).value}


@tool
def play_music(
    query: str,
    shuffle: bool = False,
    volume: Annotated[int, Field(ge=0, le=100)] = 50,
) -> dict[str, Any]:
    """Play music matching a search query.

    Args:
        query: Song, artist, album or genre.
        shuffle: Shuffle the matching tracks.
        volume: Playback volume in percent.
    """
    return {"action": "play_music", "query": query, "shuffle": shuffle, "volume": volume}


class SetThermostat(BaseModel):
    """Set the target temperature of a thermostat.

    Attributes:
        room: Room whose thermostat to set.
    """

    model_config = ConfigDict(title="set_thermostat")

    temperature: float = Field(ge=5, le=35, description="Target temperature in degrees Celsius.")
    room: str = "living room"


TOOLS = [get_weather, set_timer, send, play_music, SetThermostat]
