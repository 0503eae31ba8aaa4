"""Real decoders for what the portal draws: Debian's zbarimg reads a QR code as a banking app's
scanner would, and poppler's tools look inside a PDF (its text, its page as an image, its
images and fonts)."""

import shutil
import subprocess
from pathlib import Path

import pytest


def tool(name: str, package: str) -> str:
    """The path of a command-line tool; the test is skipped without it (a failure in CI)."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return found


def run(*command: str) -> str:
    return subprocess.run(  # noqa: S603 - Debian's tools on the tests' own files
        command, capture_output=True, check=True, text=True, encoding="utf-8"
    ).stdout


def read_qr(image: Path) -> str:
    """The text of the QR code in a PNG image, byte for byte."""
    return run(tool("zbarimg", "zbar-tools"), "--raw", "-q", "--nodbus", str(image)).removesuffix(
        "\n"
    )


def save_pdf(pdf: bytes, folder: Path) -> Path:
    path = folder / "document.pdf"
    path.write_bytes(pdf)
    return path


def pdf_page_image(pdf: bytes, folder: Path, resolution: int = 150) -> Path:
    """The PDF's first page as a PNG image, rendered by pdftoppm at ``resolution`` dpi."""
    stem = folder / "page"
    pdftoppm = tool("pdftoppm", "poppler-utils")
    run(
        pdftoppm,
        "-r",
        str(resolution),
        "-png",
        "-singlefile",
        str(save_pdf(pdf, folder)),
        str(stem),
    )
    return stem.with_suffix(".png")


def pdf_text(pdf: bytes, folder: Path) -> str:
    """The PDF's text as pdftotext reads it keeping the layout (what is side by side stays on a
    line), spaces collapsed."""
    text = run(tool("pdftotext", "poppler-utils"), "-layout", str(save_pdf(pdf, folder)), "-")
    return " ".join(text.split())


def pdf_images(pdf: bytes, folder: Path) -> list[dict]:
    """The PDF's images as `pdfimages -list` lists them: width and height in pixels, and the
    resolution they are drawn at (x-ppi, y-ppi)."""
    lines = run(tool("pdfimages", "poppler-utils"), "-list", str(save_pdf(pdf, folder)))
    header, _, *rows = lines.splitlines()
    names = header.split()
    return [dict(zip(names, row.split(), strict=False)) for row in rows]


def pdf_fonts(pdf: bytes, folder: Path) -> list[str]:
    """The names of the fonts the PDF embeds, as pdffonts lists them."""
    lines = run(tool("pdffonts", "poppler-utils"), str(save_pdf(pdf, folder))).splitlines()
    return [line.split()[0] for line in lines[2:]]
