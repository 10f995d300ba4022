"""项目 Projects: my analysis projects.

List, create, open (layers on the map, run history, results), rename, delete.

A project opened here is the one a tool page records its runs in (``tool.ipynb?project=…``).
Its layers are drawn on the map in the project's order; a layer whose item is gone from my
data is listed as missing, not drawn.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from terralab.widgets.pages.shell import Shell, page_url, run_page

__all__ = ["ProjectsPage", "build", "show"]


def add_project_layers(m: Any, project: Any) -> list[Any]:
    """Draw ``project``'s layers on the map ``m`` (bottom first); returns the map layers."""
    from terralab.client.mydata import my_data

    mine = {record.id: record for record in my_data()} if any(
        layer.source == "my-data" for layer in project.layers) else {}
    shown = []
    for layer in project.layers:
        if layer.missing or not layer.visible:
            continue
        style = dict(layer.style)
        if layer.opacity != 1.0:
            style["opacity"] = layer.opacity
        if layer.source == "my-data":
            if layer.ref in mine:
                shown.append(m.add(mine[layer.ref], name=layer.title, **style))
        else:
            if layer.asset:
                style["asset"] = layer.asset
            shown.append(m.add(f"item:{layer.ref}", name=layer.title, **style))
    return shown


class ProjectsPage:
    """The projects page's state: the list, and the project opened on the map."""

    def __init__(self, shell: Shell, *, opened: str | None = None) -> None:
        self.shell = shell
        t = shell.t
        self.name = widgets.Text(placeholder=t("New project name", "新项目名称"),
                                 layout=widgets.Layout(width="260px"))
        self.create = widgets.Button(description=t("Create", "创建"), button_style="primary",
                                     layout=widgets.Layout(width="auto"))
        self.create.on_click(shell.guard(lambda _b: self._create()))
        self.list = widgets.VBox()
        self.list.add_class("tl-project-list")
        self.detail = widgets.VBox(layout=widgets.Layout(flex="1 1 auto", min_width="0"))
        self.detail.add_class("tl-project-detail")
        new = widgets.HBox([self.name, self.create]).add_class("tl-gap-8")
        left = widgets.VBox([new, self.list], layout=widgets.Layout(width="380px",
                                                                   flex="0 0 380px"))
        self.widget = widgets.HBox([left, self.detail]).add_class("tl-gap-16")
        self.refresh()
        if opened:
            self.open(opened)

    def refresh(self) -> None:
        """List my projects again."""
        import terralab as tl

        t = self.shell.t
        projects = tl.projects.list_projects()
        if not projects:
            self.list.children = [widgets.HTML(
                f'<p class="tl-empty">{t("No projects yet.", "还没有项目。")}</p>')]
            return
        rows = []
        for project in projects:
            label = widgets.HTML(
                f'<b>{html.escape(project.name)}</b><br><small>'
                f'{t("layers", "图层")} {len(project.layers)} · {t("runs", "运行")} '
                f'{len(project.runs)} · {html.escape(project.modified[:16].replace("T", " "))}'
                "</small>", layout=widgets.Layout(flex="1 1 auto"))
            open_button = widgets.Button(description=t("Open", "打开"),
                                         layout=widgets.Layout(width="auto", flex="0 0 auto"))
            open_button.on_click(self.shell.guard(lambda _b, pid=project.id: self.open(pid)))
            row = widgets.HBox([label, open_button], layout=widgets.Layout(align_items="center"))
            row.add_class("tl-project-row")
            rows.append(row)
        self.list.children = rows

    def _create(self) -> None:
        import terralab as tl

        project = tl.projects.create(self.name.value.strip())
        self.name.value = ""
        self.shell.notify(self.shell.t(f"Project “{project.name}” created.",
                                       f"已创建项目“{project.name}”。"), "success")
        self.refresh()
        self.open(project.id)

    def open(self, project_id: str) -> None:
        """Show one project: its layers on a map, its runs and results, rename and delete."""
        import terralab as tl
        from terralab.widgets import Map

        t = self.shell.t
        project = tl.projects.open(project_id)
        m = Map(layout=widgets.Layout(height="480px", width="100%"))
        add_project_layers(m, project)
        rename = widgets.Text(value=project.name, layout=widgets.Layout(width="260px"))
        save = widgets.Button(description=t("Rename", "重命名"),
                              layout=widgets.Layout(width="auto"))
        save.on_click(self.shell.guard(lambda _b: self._rename(project.id, rename.value)))
        delete = widgets.Button(description=t("Delete", "删除"), button_style="danger",
                                layout=widgets.Layout(width="auto"))
        delete.on_click(self.shell.guard(lambda _b: self._confirm_delete(project, delete)))
        run_link = (f'<a class="tl-link-button" href="'
                    f'{html.escape(page_url("tools", project=project.id))}">'
                    f'{t("Run a tool in this project", "在此项目中运行工具")}</a>')
        layers = "".join(
            f"<li>{html.escape(layer.title)}"
            f"{' <em>(' + t('missing', '已删除') + ')</em>' if layer.missing else ''}</li>"
            for layer in reversed(project.layers))
        runs = "".join(
            f"<li>{html.escape(str(run.get('tool', '')))} · "
            f"{html.escape(str(run.get('status', '')))}"
            f"{' · ' + html.escape(str(run.get('title'))) if run.get('title') else ''}</li>"
            for run in project.history())
        info = widgets.HTML(
            f'<h3>{html.escape(project.name)}</h3>{run_link}'
            f'<h4>{t("Layers (top first)", "图层（上层在前）")}</h4>'
            f'<ul>{layers or "<li>–</li>"}</ul>'
            f'<h4>{t("Runs", "运行记录")}</h4><ul>{runs or "<li>–</li>"}</ul>')
        self.detail.children = [widgets.HBox([rename, save, delete]).add_class("tl-gap-8"), info, m]
        self.opened = project

    def _rename(self, project_id: str, name: str) -> None:
        import terralab as tl

        tl.projects.rename(project_id, name.strip())
        self.shell.notify(self.shell.t("Renamed.", "已重命名。"), "success")
        self.refresh()

    def _confirm_delete(self, project: Any, button: widgets.Button) -> None:
        import terralab as tl

        t = self.shell.t
        if button.description != t("Really delete?", "确认删除？"):
            button.description = t("Really delete?", "确认删除？")
            return
        tl.projects.delete(project.id)
        self.detail.children = []
        self.shell.notify(t(f"Project “{project.name}” deleted; its items stay in my data.",
                            f"已删除项目“{project.name}”；其中的数据仍保留在“我的数据”中。"),
                          "success")
        self.refresh()


def build(shell: Shell) -> None:
    """Fill the projects page (``?project=ID`` opens one)."""
    from terralab.widgets.page_request import query_value

    page = ProjectsPage(shell, opened=query_value("project"))
    shell.content.children = [widgets.HTML(f'<h2>{shell.t("Projects", "项目")}</h2>'),
                              page.widget]
    shell.projects = page  # type: ignore[attr-defined]


def show() -> Shell:
    """Show the projects page (the one call of ``dashboards/projects.ipynb``)."""
    return run_page("projects", build)
