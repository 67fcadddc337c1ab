"""mkdocs hook: the gallery's figures load when pages are ``NAME.html`` (``use_directory_urls: false``).

mkdocs-gallery 0.10 writes every figure path of a gallery page as seen from a page that is a
directory (``../images/NAME.png`` in ``srcset``, and in ``src`` where a script draws several
figures). With ``use_directory_urls: false`` the page ``generated/gallery/plot_x.html`` sits
beside its ``images/`` folder, so those paths miss and the browser shows a broken image; they
are rewritten to ``images/NAME.png``.
"""

GALLERY = "generated/gallery/"


def on_page_content(html, page, config, files):
    if config["use_directory_urls"] or not page.file.src_uri.startswith(GALLERY):
        return html
    return html.replace('="../images/', '="images/')
